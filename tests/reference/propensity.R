# Reference values for propensity_scores and fit_weighted
# (mutualaid_outcomes.models.causal.propensity).
# Run from the repository root:  Rscript tests/reference/propensity.R
# Exports tests/data/ps_sim.csv (simulated observational data with a binary exposure,
# a three-level dose group and continuous / binary outcomes), then writes
# tests/reference/propensity.csv (long: model, quantity, term, value).
suppressPackageStartupMessages({
  library(sandwich); library(nnet)
})
dd <- "tests/data"
set.seed(20240918)
n <- 600
sim <- data.frame(id = seq_len(n), age = round(rnorm(n, 40, 11)),
                  female = rbinom(n, 1, 0.3), severity = round(rnorm(n), 5),
                  site = sample(c("s1", "s2", "s3", "s4"), n, replace = TRUE))
lin <- -0.3 + 0.02 * (sim$age - 40) + 0.4 * sim$female + 0.7 * sim$severity +
  c(s1 = 0, s2 = 0.3, s3 = -0.4, s4 = 0.2)[sim$site]
sim$treat <- rbinom(n, 1, plogis(lin))
u <- lin + rlogis(n)
sim$dose <- ifelse(u > 1, "frequent", ifelse(u > -0.5, "some", "none"))
sim$y <- round(0.5 + 0.1 * sim$treat + 0.08 * sim$severity + 0.002 * sim$age +
                 rnorm(n, 0, 0.15), 6)
sim$ybin <- rbinom(n, 1, plogis(-0.5 + 0.6 * sim$treat - 0.5 * sim$severity))
write.csv(sim, file.path(dd, "ps_sim.csv"), row.names = FALSE)
sim <- read.csv(file.path(dd, "ps_sim.csv"), stringsAsFactors = TRUE)

out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
se <- function(v) sqrt(diag(v))
ctl <- glm.control(epsilon = 1e-14, maxit = 200)

# Binary propensity model (logistic, IRLS to full convergence)
ps <- glm(treat ~ age + female + severity + site, binomial, data = sim, control = ctl)
add("ps_logit", "coef", coef(ps))
add("ps_logit", "se", se(vcov(ps)))
add("ps_logit", "loglik", c(loglik = as.numeric(logLik(ps))))
e <- fitted(ps)
t <- sim$treat
add("ps_logit", "score", e, as.character(seq_len(n)))
w_ate <- ifelse(t == 1, 1 / e, 1 / (1 - e))
w_sate <- ifelse(t == 1, mean(t) / e, (1 - mean(t)) / (1 - e))
w_att <- ifelse(t == 1, 1, e / (1 - e))
w_ovl <- ifelse(t == 1, 1 - e, e)
add("weights", "ate", w_ate, as.character(seq_len(n)))
add("weights", "ate_stabilized", w_sate, as.character(seq_len(n)))
add("weights", "att", w_att, as.character(seq_len(n)))
add("weights", "overlap", w_ovl, as.character(seq_len(n)))
ess <- function(w) sum(w)^2 / sum(w^2)
add("ess_ate", "ess", c(`0` = ess(w_ate[t == 0]), `1` = ess(w_ate[t == 1])))

# Weighted SMDs (pooled unweighted SD; p(1-p) for binary columns) and variance ratios
X <- model.matrix(~ age + female + severity + site, sim)[, -1]
wvar <- function(x, w) { m <- weighted.mean(x, w); sum(w * (x - m)^2) * sum(w) / (sum(w)^2 - sum(w^2)) }
for (j in colnames(X)) {
  x <- X[, j]; x1 <- x[t == 1]; x0 <- x[t == 0]
  bin <- all(x %in% c(0, 1))
  v1 <- if (bin) mean(x1) * (1 - mean(x1)) else var(x1)
  v0 <- if (bin) mean(x0) * (1 - mean(x0)) else var(x0)
  s <- sqrt((v1 + v0) / 2)
  sm <- (weighted.mean(x1, w_ate[t == 1]) - weighted.mean(x0, w_ate[t == 0])) / s
  add("balance_ate", "smd_unadjusted", c(x = (mean(x1) - mean(x0)) / s), j)
  add("balance_ate", "smd_adjusted", c(x = sm), j)
  if (!bin) add("balance_ate", "var_ratio_adjusted",
                c(x = wvar(x1, w_ate[t == 1]) / wvar(x0, w_ate[t == 0])), j)
  st <- sqrt(v1)
  add("balance_att", "smd_adjusted",
      c(x = (weighted.mean(x1, w_att[t == 1]) - weighted.mean(x0, w_att[t == 0])) / st), j)
}

# Weighted outcome models with sandwich SEs (weights treated as known)
add_w <- function(model, fit, cluster = NULL) {
  add(model, "coef", coef(fit))
  for (h in c("HC0", "HC1")) add(model, paste0("se_", h), se(vcovHC(fit, type = h)))
  if (!is.null(cluster)) {
    add(model, "se_cluster_HC0", se(vcovCL(fit, cluster = cluster, type = "HC0")))
    add(model, "se_cluster_HC1", se(vcovCL(fit, cluster = cluster, type = "HC1")))
  }
}
sim$w_ate <- w_ate; sim$w_att <- w_att; sim$w_ovl <- w_ovl
add_w("wls_ate", glm(y ~ treat, data = sim, weights = w_ate, control = ctl), ~site)
add_w("wls_overlap_dr", glm(y ~ treat + age + female + severity + site, data = sim,
                            weights = w_ovl, control = ctl))
add_w("wlogit_att", glm(ybin ~ treat, quasibinomial, data = sim, weights = w_att,
                        control = ctl))

# Stacked M-estimation SEs (propensity model + weighted outcome model), with the
# derivative matrix from numerical differentiation of the stacked estimating equations
Xp <- model.matrix(~ age + female + severity + site, sim)
wfun <- function(e, kind) switch(kind,
  ate = ifelse(t == 1, 1 / e, 1 / (1 - e)),
  att = ifelse(t == 1, 1, e / (1 - e)),
  overlap = ifelse(t == 1, 1 - e, e))
stacked <- function(model, formula, kind, family) {
  w <- wfun(fitted(ps), kind)
  # binomial with fractional weights warns about non-integer successes; harmless here
  fit <- suppressWarnings(glm(formula, family = family, data = cbind(sim, .w = w),
                              weights = .w, control = ctl))
  Xo <- model.matrix(formula, sim); y <- model.response(model.frame(formula, sim))
  ka <- ncol(Xp)
  psi <- function(th) {
    a <- th[seq_len(ka)]; b <- th[-seq_len(ka)]
    e <- plogis(drop(Xp %*% a))
    mu <- family$linkinv(drop(Xo %*% b))
    cbind((t - e) * Xp, wfun(e, kind) * (y - mu) * Xo)
  }
  th <- c(coef(ps), coef(fit))
  A <- -numDeriv::jacobian(function(x) colSums(psi(x)), th)
  P <- psi(th)
  Ai <- solve(A)
  V <- Ai %*% crossprod(P) %*% t(Ai)
  idx <- -seq_len(ka)
  add(model, "coef", coef(fit))
  add(model, "se_stacked", sqrt(diag(V))[idx], names(coef(fit)))
  add(model, "se_HC0", se(vcovHC(fit, type = "HC0")))
}
stacked("stacked_ate", y ~ treat + severity, "ate", gaussian())
stacked("stacked_att_logit", ybin ~ treat, "att", binomial())
stacked("stacked_overlap", y ~ treat, "overlap", gaussian())

# Multinomial propensity model for the dose groups (reference 'none')
sim$dose <- relevel(factor(sim$dose), ref = "none")
mn <- multinom(dose ~ age + female + severity + site, data = sim, trace = FALSE,
               reltol = 1e-14, abstol = 1e-14, maxit = 2000)
P <- fitted(mn)
for (lv in colnames(P)) add("ps_multinom", paste0("prob_", lv), P[, lv],
                            as.character(seq_len(n)))
cf <- coef(mn)
add("ps_multinom", "coef", as.vector(t(cf)),
    as.vector(t(outer(rownames(cf), colnames(cf), paste, sep = ":"))))

res <- do.call(rbind, out)
path <- "tests/reference/propensity.csv"
con <- file(path, "w")
writeLines(sprintf("# R %s; sandwich %s; nnet %s; numDeriv %s",
                   paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("sandwich"), packageVersion("nnet"),
                   packageVersion("numDeriv")), con)
write.csv(res, con, row.names = FALSE)
close(con)
