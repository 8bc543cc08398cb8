# Reference values for fit_trajectories (mutualaid_outcomes.models.trajectories) from R flexmix.
# Run from the repository root:  Rscript tests/reference/trajectories_flexmix.R
#
# Data (written to tests/data/ by this script, see tests/data/README.md):
#   trajectories_btheb.csv   HSAUR3::BtheB (Beat the Blues), Beck Depression Inventory at
#                            months 0, 2, 3, 5, 8, long format, missing waves dropped
#   trajectories_toenail.csv HSAUR3::toenail, moderate or severe onycholysis (0/1) by month
#   trajectories_epil.csv    MASS::epil, seizure counts in four two-week periods
#   trajectories_sim.csv     simulated 3-class panel (set.seed below), normal, binary and
#                            count outcomes, a membership covariate x and a time-varying w
#
# Models: stepFlexmix(..., nrep = many) with FLXMRglm and `| id` grouping (EM tolerance 1e-8
# for the random starts), then the best solution polished by flexmix() started from its
# posterior with tolerance 1e-13; minprior = 0 throughout (flexmix otherwise drops
# components under 5%).
#
# flexmix's gaussian driver is not maximum likelihood: its M-step sets
# sigma^2 = sum(w r^2) / mean(w) / (n - p), n all observations, so its EM fixed point has
# sigma inflated by about n / (n - p) and does not maximise the log-likelihood. Every
# gaussian model is therefore fitted twice: with the stock driver ("*_stock"; our
# maximised log-likelihood must be at least as high) and with FLXMRglm whose M-step sigma
# is replaced by the weighted ML estimate sqrt(sum(w r^2) / sum(w)) ("ML driver"; same
# optimum, coefficients compared). flexmix's per-component sigma is variance = "group".
#
# Components are ordered as fit_trajectories orders classes (by the mean over the distinct
# observed times of the class's expected outcome, lowest first); membership coefficients
# are relative to the first of them. flexmix's EM stops on a relative log-likelihood change,
# where slowly converging directions can still be ~1e-3 from the maximum; its estimates
# are written as "*_flexmix" and then finished by Newton steps on the mixture
# log-likelihood coded below in R with numDeriv derivatives ("coef", "sigma",
# "membership", "prior"; "max_grad_*" report the largest score before and after).
# Standard errors ("se") are an independent check of the observed information:
# numDeriv::hessian of that log-likelihood at the polished estimates, in the reported
# parametrisation (raw-time coefficients, sigma, membership logits).
suppressPackageStartupMessages({
  library(flexmix)
  library(HSAUR3)
  library(MASS)
  library(numDeriv)
})
dd <- "tests/data"

# ---- data --------------------------------------------------------------------------
data("BtheB", package = "HSAUR3")
b <- BtheB
b$id <- seq_len(nrow(b))
btheb <- reshape(b, direction = "long", idvar = "id", timevar = "month",
                 varying = c("bdi.pre", "bdi.2m", "bdi.3m", "bdi.5m", "bdi.8m"),
                 v.names = "bdi", times = c(0, 2, 3, 5, 8))
btheb <- btheb[!is.na(btheb$bdi), c("id", "month", "bdi")]
btheb <- btheb[order(btheb$id, btheb$month), ]
write.csv(btheb, file.path(dd, "trajectories_btheb.csv"), row.names = FALSE)

data("toenail", package = "HSAUR3")
toe <- data.frame(id = as.integer(as.character(toenail$patientID)), month = toenail$time,
                  y = as.integer(toenail$outcome == "moderate or severe"))
toe <- toe[order(toe$id, toe$month), ]
write.csv(toe, file.path(dd, "trajectories_toenail.csv"), row.names = FALSE)

epil <- data.frame(id = MASS::epil$subject, period = MASS::epil$period, y = MASS::epil$y)
write.csv(epil, file.path(dd, "trajectories_epil.csv"), row.names = FALSE)

set.seed(20240917)
n <- 500
x <- rnorm(n)
lin <- cbind(0, -0.3 + 0.8 * x, -0.8 - 0.5 * x)
pr <- exp(lin) / rowSums(exp(lin))
cls <- apply(pr, 1, function(p) sample(3, 1, prob = p))
sim <- expand.grid(time = 0:5, id = seq_len(n))[, c("id", "time")]
sim$x <- round(x[sim$id], 6)
sim$w <- round(rnorm(nrow(sim)), 6)
k <- cls[sim$id]
t <- sim$time
g <- rbind(c(10, 0, 0), c(14, 2, -0.3), c(20, -3, 0.25))
sig <- c(1.5, 2, 2.5)
mu <- g[k, 1] + g[k, 2] * t + g[k, 3] * t^2
sim$y_gauss <- round(mu + sig[k] * rnorm(nrow(sim)), 6)
sim$y_gauss_tv <- round(mu + c(0.5, 1, -0.5)[k] * sim$w + sig[k] * rnorm(nrow(sim)), 6)
bl <- rbind(c(-1.5, 0), c(0.5, -0.4), c(1.5, 0.3))
sim$y_bin <- rbinom(nrow(sim), 1, plogis(bl[k, 1] + bl[k, 2] * t))
pc <- rbind(c(0.2, 0.1, -0.02), c(1.5, -0.3, 0.02), c(2, 0.2, -0.03))
sim$y_count <- rpois(nrow(sim), exp(pc[k, 1] + pc[k, 2] * t + pc[k, 3] * t^2))
sim$true_class <- k
sim <- sim[!(sim$time > 0 & runif(nrow(sim)) < 0.15), ]  # missing waves, baseline kept
write.csv(sim, file.path(dd, "trajectories_sim.csv"), row.names = FALSE)

# ---- flexmix -------------------------------------------------------------------------
FLXMRglmML <- function(formula = . ~ .) {
  z <- FLXMRglm(formula, family = "gaussian")
  z@fit <- function(x, y, w, component) {
    fit <- lm.wfit(x, y, w = w)
    z@defineComponent(para = list(coef = coef(fit), df = ncol(x) + 1,
                                  sigma = sqrt(sum(w * fit$residuals^2) / sum(w))))
  }
  z
}
ctl_search <- list(iter.max = 1000, tolerance = 1e-8, minprior = 0)  # the random starts
ctl <- list(iter.max = 20000, tolerance = 1e-13, minprior = 0)  # polishing the best one

# mixture log-likelihood in the reported parametrisation, for numDeriv
mix_loglik <- function(theta, y, X, id, Z, K, family) {
  p <- ncol(X)
  per <- p + (family == "gaussian")
  B <- matrix(0, nrow(X), K)
  for (j in seq_len(K)) {
    th <- theta[(j - 1) * per + seq_len(p)]
    eta <- drop(X %*% th)
    B[, j] <- switch(family,
      gaussian = dnorm(y, eta, theta[(j - 1) * per + per], log = TRUE),
      binomial = dbinom(y, 1, plogis(eta), log = TRUE),
      poisson = dpois(y, exp(eta), log = TRUE))
  }
  A <- rowsum(B, id, reorder = FALSE)
  q <- ncol(Z)
  G <- matrix(theta[K * per + seq_len((K - 1) * q)], q, K - 1)
  lin <- cbind(0, Z %*% G)
  lp <- lin - log(rowSums(exp(lin)))
  J <- A + lp
  m <- apply(J, 1, max)
  sum(m + log(rowSums(exp(J - m))))
}

out <- list()
add <- function(model, quantity, component, term, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        component = component, term = term,
                                        value = as.numeric(value))
}

run <- function(name, formula, data, k, driver, family, nrep, time_col, Zform = NULL,
                se = TRUE, tv = character(0)) {
  set.seed(1)
  conc <- if (is.null(Zform)) FLXPconstant() else FLXPmultinom(Zform)
  s <- stepFlexmix(formula, data = data, k = k, nrep = nrep, model = driver,
                   concomitant = conc, control = ctl_search, verbose = FALSE)
  # refit from the best posterior to polish it
  fit <- flexmix(formula, data = data, k = k, model = driver, concomitant = conc,
                 cluster = posterior(s), control = ctl)
  if (logLik(fit) < logLik(s)) fit <- s
  pars <- parameters(fit)
  coefs <- pars[grepl("^coef", rownames(pars)), , drop = FALSE]
  X <- fit@model[[1]]@x
  tt <- sort(unique(data[[time_col]]))
  Xt <- X[match(tt, data[[time_col]]), , drop = FALSE]
  for (v in tv) Xt[, v] <- mean(X[, v])  # time-varying covariates at their mean
  eta <- Xt %*% coefs
  lev <- colMeans(switch(family, gaussian = eta, binomial = plogis(eta), poisson = exp(eta)))
  ord <- order(lev)
  coefs <- coefs[, ord, drop = FALSE]
  sigma <- if (family == "gaussian") pars["sigma", ord] else NULL
  yname <- all.vars(formula)[1]
  y <- data[[yname]]
  Zm <- if (is.null(Zform)) {
    matrix(1, length(unique(data$id)), 1, dimnames = list(NULL, "(Intercept)"))
  } else {
    model.matrix(Zform, data[!duplicated(data$id), ])
  }
  if (is.null(Zform)) {
    pri <- prior(fit)[ord]
    gam <- matrix(log(pri[-1] / pri[1]), 1)
  } else {
    cc <- parameters(fit, which = "concomitant")[, ord, drop = FALSE]
    cc <- cc - cc[, 1]
    gam <- cc[, -1, drop = FALSE]
    pri <- colMeans(posterior(fit))[ord]
  }
  ll <- as.numeric(logLik(fit))
  add(name, "loglik", NA, NA, ll)
  add(name, "df", NA, NA, attr(logLik(fit), "df"))
  add(name, "nobs", NA, NA, nrow(data))
  add(name, "iter", NA, NA, fit@iter)
  add(name, "converged", NA, NA, fit@converged)
  terms <- sub("^coef\\.", "", rownames(coefs))
  p <- nrow(coefs)
  per <- p + (family == "gaussian")
  q <- ncol(Zm)
  unpack <- function(th) {
    list(coefs = matrix(th[outer(seq_len(p), (seq_len(k) - 1) * per, "+")], p),
         sigma = if (family == "gaussian") th[seq_len(k) * per] else NULL,
         gam = matrix(th[k * per + seq_len((k - 1) * q)], q))
  }
  write_params <- function(suffix, P, pri) {
    add(name, paste0("prior", suffix), seq_len(k), NA, pri)
    for (j in seq_len(k)) {
      add(name, paste0("coef", suffix), j, terms, P$coefs[, j])
      if (!is.null(P$sigma)) add(name, paste0("sigma", suffix), j, "sigma", P$sigma[j])
    }
    for (j in seq_len(k - 1)) {
      add(name, paste0("membership", suffix), j + 1, colnames(Zm), P$gam[, j])
    }
  }
  if (se) {
    # flexmix's EM stops when the log-likelihood changes by < 1e-13 (relative); in flat
    # directions its estimates can then still be ~1e-3 from the maximum. Newton steps with
    # numDeriv derivatives of the R-coded log-likelihood finish the climb ("polished").
    theta <- c(unlist(lapply(seq_len(k), function(j) c(coefs[, j], sigma[j]))), c(gam))
    f <- function(th) mix_loglik(th, y, X, data$id, Zm, k, family)
    stopifnot(abs(f(theta) - ll) < 1e-6)
    write_params("_flexmix", unpack(theta), pri)
    nd <- list(d = 0.01, r = 6)  # numDeriv's default d = 0.1 is too coarse for log links
    add(name, "max_grad_flexmix", NA, NA, max(abs(grad(f, theta, method.args = nd))))
    for (i in 1:20) {
      step <- solve(hessian(f, theta, method.args = nd), grad(f, theta, method.args = nd))
      theta <- theta - step
      if (max(abs(step)) < 1e-10) break
    }
    add(name, "max_grad_polished", NA, NA, max(abs(grad(f, theta, method.args = nd))))
    add(name, "loglik_polished", NA, NA, f(theta))
    P <- unpack(theta)
    lin <- cbind(0, Zm %*% P$gam)
    write_params("", P, colMeans(exp(lin) / rowSums(exp(lin))))
    s_e <- sqrt(diag(solve(-hessian(f, theta, method.args = nd))))
    for (j in seq_len(k)) {
      add(name, "se", j, c(terms, if (family == "gaussian") "sigma"),
          s_e[(j - 1) * per + seq_len(per)])
    }
    for (j in seq_len(k - 1)) {
      add(name, "se_membership", j + 1, colnames(Zm),
          s_e[k * per + (j - 1) * q + seq_len(q)])
    }
  }
  cat(sprintf("%-22s loglik %.6f  df %d  iter %d\n", name, ll,
              attr(logLik(fit), "df"), fit@iter))
}

q2 <- function(lhs, time) as.formula(sprintf("%s ~ poly(%s, 2, raw = TRUE) | id", lhs, time))
run("btheb_gauss_k2", q2("bdi", "month"), btheb, 2, FLXMRglmML(), "gaussian", 50, "month")
run("btheb_gauss_k2_stock", q2("bdi", "month"), btheb, 2, FLXMRglm(family = "gaussian"),
    "gaussian", 50, "month", se = FALSE)
run("btheb_gauss_k3", q2("bdi", "month"), btheb, 3, FLXMRglmML(), "gaussian", 100, "month")
run("toenail_logit_k2", cbind(y, 1 - y) ~ month | id, toe, 2, FLXMRglm(family = "binomial"),
    "binomial", 50, "month")
run("epil_pois_k2", q2("y", "period"), epil, 2, FLXMRglm(family = "poisson"), "poisson", 50,
    "period")
run("epil_pois_k3", q2("y", "period"), epil, 3, FLXMRglm(family = "poisson"), "poisson", 100,
    "period")
run("sim_gauss_k3", q2("y_gauss", "time"), sim, 3, FLXMRglmML(), "gaussian", 50, "time")
run("sim_gauss_k3_stock", q2("y_gauss", "time"), sim, 3, FLXMRglm(family = "gaussian"),
    "gaussian", 50, "time", se = FALSE)
run("sim_gauss_tv_k3", y_gauss_tv ~ poly(time, 2, raw = TRUE) + w | id, sim, 3, FLXMRglmML(),
    "gaussian", 50, "time", tv = "w")
# binary mixtures converge slowly in EM; 10 starts suffice here (fit_trajectories' 30
# starts all reach this maximum)
run("sim_logit_k3", cbind(y_bin, 1 - y_bin) ~ time | id, sim, 3,
    FLXMRglm(family = "binomial"), "binomial", 10, "time")
run("sim_pois_x_k3", q2("y_count", "time"), sim, 3, FLXMRglm(family = "poisson"), "poisson",
    50, "time", Zform = ~ x)

res <- do.call(rbind, out)
con <- file("tests/reference/trajectories_flexmix.csv", "w")
writeLines(sprintf("# R %s; flexmix %s; HSAUR3 %s; MASS %s; numDeriv %s",
                   paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("flexmix"), packageVersion("HSAUR3"),
                   packageVersion("MASS"), packageVersion("numDeriv")), con)
write.csv(res, con, row.names = FALSE)
close(con)
