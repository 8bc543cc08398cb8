# Reference values for mutualaid_outcomes.models.mediation.causal and .sensitivity
# on the JOBS II data (tests/data/jobs.csv, from R package `mediation`).
#
# The R package `mediation` is not installable on the project machines (no Debian
# package), so this script computes the references independently in base R:
#   1. causal_mediation_jobs.csv      deterministic plug-in estimands from lm/glm fits:
#      E[Y(t, M(t'))] by predict() (linear outcome), adaptive integrate() over the normal
#      mediator (logit/probit outcome) or a two-point sum (binary mediator); VanderWeele's
#      effects from his published closed forms written out term by term.
#   2. causal_mediation_jobs_mc.csv   Monte Carlo intervals from a re-implementation of
#      mediation::mediate()'s algorithms (quasi-Bayesian: mvrnorm coefficient draws and
#      simulated mediators; bootstrap: refit both models on the same resampled rows and
#      simulate the mediator once per resample), 2000-5000 simulations; and the same
#      algorithms with the mediator integrated out instead of simulated ("integrated").
#   3. causal_mediation_jobs_sens.csv mediation::medsens()'s feasible-GLS iteration for
#      linear mediator and outcome models, run to convergence (eps = 1e-20: summed squared
#      coefficient change below 1e-20; rounding stops the iteration from going much lower) and with
#      medsens's default stopping rule (eps = sqrt(.Machine$double.eps)).
#
# Run from the repository root:  Rscript tests/reference/causal_mediation_jobs.R
suppressPackageStartupMessages({
  library(MASS)
  library(Matrix)
})
set.seed(20240611)

here <- "tests/reference"
jobs <- read.csv("tests/data/jobs.csv", stringsAsFactors = TRUE)
jobs$work <- as.numeric(jobs$work1 == "psyemp")
header <- sprintf("# %s; MASS %s; Matrix %s", sub(" \\(.*", "", R.version.string),
                  packageVersion("MASS"), packageVersion("Matrix"))

basic <- c("econ_hard", "sex", "age")
full <- c("econ_hard", "sex", "age", "depress1", "occp", "marital", "nonwhite", "educ", "income")

cases <- list(
  domain = list(treat = "treat", med = "job_seek", out = "depress2", covs = basic,
                mm = "linear", ym = "linear", int = FALSE, t0 = 0, t1 = 1),
  full = list(treat = "treat", med = "job_seek", out = "depress2", covs = full,
              mm = "linear", ym = "linear", int = FALSE, t0 = 0, t1 = 1),
  logit_out = list(treat = "treat", med = "job_seek", out = "work", covs = basic,
                   mm = "linear", ym = "logit", int = FALSE, t0 = 0, t1 = 1),
  probit_out = list(treat = "treat", med = "job_seek", out = "work", covs = basic,
                    mm = "linear", ym = "probit", int = FALSE, t0 = 0, t1 = 1),
  binmed = list(treat = "treat", med = "job_dich", out = "depress2", covs = basic,
                mm = "logit", ym = "linear", int = FALSE, t0 = 0, t1 = 1),
  binmed_binout = list(treat = "treat", med = "job_dich", out = "work", covs = basic,
                       mm = "probit", ym = "logit", int = FALSE, t0 = 0, t1 = 1),
  continuous = list(treat = "econ_hard", med = "job_seek", out = "depress2",
                    covs = c("treat", "sex", "age"), mm = "linear", ym = "linear",
                    int = FALSE, t0 = 2, t1 = 4),
  int_linear = list(treat = "treat", med = "job_seek", out = "depress2", covs = basic,
                    mm = "linear", ym = "linear", int = TRUE, t0 = 0, t1 = 1, mstar = 4),
  int_logit = list(treat = "treat", med = "job_seek", out = "work", covs = basic,
                   mm = "linear", ym = "logit", int = TRUE, t0 = 0, t1 = 1, mstar = 4),
  int_binmed = list(treat = "treat", med = "job_dich", out = "work", covs = basic,
                    mm = "logit", ym = "logit", int = TRUE, t0 = 0, t1 = 1, mstar = 1),
  int_binmed_lin = list(treat = "treat", med = "job_dich", out = "depress2", covs = basic,
                        mm = "logit", ym = "linear", int = TRUE, t0 = 0, t1 = 1, mstar = 0)
)

fit_models <- function(cs, data) {
  fm <- as.formula(paste(cs$med, "~", paste(c(cs$treat, cs$covs), collapse = " + ")))
  rhs <- c(cs$treat, cs$med, if (cs$int) paste0(cs$treat, ":", cs$med), cs$covs)
  fy <- as.formula(paste(cs$out, "~", paste(rhs, collapse = " + ")))
  fam <- function(link) binomial(link = link)
  tight <- glm.control(epsilon = 1e-14, maxit = 100)  # glm's default 1e-8 leaves ~1e-6 error
  m <- if (cs$mm == "linear") lm(fm, data = data) else glm(fm, family = fam(cs$mm), data = data, control = tight)
  y <- if (cs$ym == "linear") lm(fy, data = data) else glm(fy, family = fam(cs$ym), data = data, control = tight)
  list(m = m, y = y)
}

linpred <- function(fit, newdata) {
  if (inherits(fit, "glm")) predict(fit, newdata = newdata, type = "link") else
    predict(fit, newdata = newdata)
}
inv_link <- function(link) switch(link, linear = identity, logit = plogis, probit = pnorm)

# ---------------------------------------------------------------------------
# 1. deterministic plug-in values
# ---------------------------------------------------------------------------
mean_potential <- function(cs, fits, data, t, tp) {
  dm <- data
  dm[[cs$treat]] <- tp
  mu <- linpred(fits$m, dm)
  dy0 <- data
  dy0[[cs$treat]] <- t
  dy0[[cs$med]] <- 0
  dy1 <- dy0
  dy1[[cs$med]] <- 1
  a <- linpred(fits$y, dy0)        # outcome predictor at m = 0
  b <- linpred(fits$y, dy1) - a    # slope in m at this t
  F <- inv_link(cs$ym)
  if (cs$mm == "linear") {
    sigma <- summary(fits$m)$sigma
    if (cs$ym == "linear") return(mean(a + b * mu))
    vals <- vapply(seq_along(mu), function(i) {
      integrate(function(z) F(a[i] + b[i] * (mu[i] + sigma * z)) * dnorm(z),
                -Inf, Inf, rel.tol = 1e-12, abs.tol = 0)$value
    }, numeric(1))
    return(mean(vals))
  }
  p <- inv_link(cs$mm)(mu)
  mean(p * F(a + b) + (1 - p) * F(a))
}

ikt <- function(cs, fits, data) {
  e <- function(t, tp) mean_potential(cs, fits, data, t, tp)
  e00 <- e(cs$t0, cs$t0); e01 <- e(cs$t0, cs$t1); e10 <- e(cs$t1, cs$t0); e11 <- e(cs$t1, cs$t1)
  d0 <- e01 - e00; d1 <- e11 - e10; z0 <- e10 - e00; z1 <- e11 - e01; tau <- e11 - e00
  c(acme_control = d0, acme_treated = d1, acme_average = (d0 + d1) / 2,
    ade_control = z0, ade_treated = z1, ade_average = (z0 + z1) / 2, total = tau,
    prop_mediated_control = d0 / tau, prop_mediated_treated = d1 / tau,
    prop_mediated_average = (d0 / tau + d1 / tau) / 2)
}

# VanderWeele's closed forms at the covariate means (model-matrix column means).
vanderweele <- function(cs, fits) {
  a <- cs$t1; as <- cs$t0; ms <- cs$mstar
  bm <- coef(fits$m); th <- coef(fits$y)
  xm <- colMeans(model.matrix(fits$m))
  covm <- setdiff(names(bm), c("(Intercept)", cs$treat))
  b0 <- bm[["(Intercept)"]]; b1 <- bm[[cs$treat]]
  b2c <- sum(bm[covm] * xm[covm])
  t1 <- th[[cs$treat]]; t2 <- th[[cs$med]]; t3 <- th[[paste0(cs$treat, ":", cs$med)]]
  if (cs$mm == "linear") {
    s2 <- summary(fits$m)$sigma^2
    if (cs$ym == "linear") {
      # VanderWeele (2014), linear mediator and outcome
      cde <- (t1 + t3 * ms) * (a - as)
      pnde <- (t1 + t3 * (b0 + b1 * as + b2c)) * (a - as)
      tnde <- (t1 + t3 * (b0 + b1 * a + b2c)) * (a - as)
      pnie <- (t2 * b1 + t3 * b1 * as) * (a - as)
      tnie <- (t2 * b1 + t3 * b1 * a) * (a - as)
      intref <- t3 * (b0 + b1 * as + b2c - ms) * (a - as)
      intmed <- t3 * b1 * (a - as) * (a - as)
      pie <- pnie
      return(c(cde = cde, pnde = pnde, tnde = tnde, pnie = pnie, tnie = tnie,
               fw_cde = cde, fw_intref = intref, fw_intmed = intmed, fw_pie = pie))
    }
    # VanderWeele & Vansteelandt (2010): logistic outcome, linear mediator (log OR)
    lpnde <- (t1 + t3 * (b0 + b1 * as + b2c + t2 * s2)) * (a - as) + 0.5 * t3^2 * s2 * (a^2 - as^2)
    ltnde <- (t1 + t3 * (b0 + b1 * a + b2c + t2 * s2)) * (a - as) + 0.5 * t3^2 * s2 * (a^2 - as^2)
    lpnie <- (t2 * b1 + t3 * b1 * as) * (a - as)
    ltnie <- (t2 * b1 + t3 * b1 * a) * (a - as)
    lcde <- (t1 + t3 * ms) * (a - as)
    # VanderWeele (2014) appendix: excess relative risks, logistic outcome, linear mediator
    base <- t2 * (b0 + b1 * as + b2c) + t3 * as * (b0 + b1 * as + b2c) + 0.5 * (t2 + t3 * as)^2 * s2
    err_cde <- exp(t1 * (a - as) + t2 * ms + t3 * a * ms - base) - exp(t2 * ms + t3 * as * ms - base)
    err_intref <- exp(lpnde) - 1 - err_cde
    err_pie <- exp(lpnie) - 1
    rr_te <- exp(lpnde + ltnie)
    err_intmed <- rr_te - 1 - err_cde - err_intref - err_pie
    return(c(cde = lcde, pnde = lpnde, tnde = ltnde, pnie = lpnie, tnie = ltnie,
             fw_cde = err_cde, fw_intref = err_intref, fw_intmed = err_intmed, fw_pie = err_pie))
  }
  # binary (logit) mediator
  g <- function(x) exp(x)
  mu <- function(t) b0 + b1 * t + b2c
  if (cs$ym == "linear") {
    pm <- function(t) plogis(mu(t))
    cde <- (t1 + t3 * ms) * (a - as)
    pnde <- (t1 + t3 * pm(as)) * (a - as)
    tnde <- (t1 + t3 * pm(a)) * (a - as)
    pnie <- (t2 + t3 * as) * (pm(a) - pm(as))
    tnie <- (t2 + t3 * a) * (pm(a) - pm(as))
    return(c(cde = cde, pnde = pnde, tnde = tnde, pnie = pnie, tnie = tnie,
             fw_cde = cde, fw_intref = pnde - cde, fw_intmed = tnie - pnie, fw_pie = pnie))
  }
  # VanderWeele & Vansteelandt (2010): logistic outcome and logistic mediator (log OR)
  lpnde <- t1 * (a - as) + log(1 + g(t2 + t3 * a + mu(as))) - log(1 + g(t2 + t3 * as + mu(as)))
  ltnde <- t1 * (a - as) + log(1 + g(t2 + t3 * a + mu(a))) - log(1 + g(t2 + t3 * as + mu(a)))
  lpnie <- log(1 + g(mu(as))) + log(1 + g(t2 + t3 * as + mu(a))) -
    log(1 + g(mu(a))) - log(1 + g(t2 + t3 * as + mu(as)))
  ltnie <- log(1 + g(mu(as))) + log(1 + g(t2 + t3 * a + mu(a))) -
    log(1 + g(mu(a))) - log(1 + g(t2 + t3 * a + mu(as)))
  lcde <- (t1 + t3 * ms) * (a - as)
  # excess relative risks (VanderWeele 2014, binary mediator): p(t, t') / p(as, as)
  pr <- function(t, tp) exp(t1 * t) * (1 + g(mu(tp) + t2 + t3 * t)) / (1 + g(mu(tp)))
  p00 <- pr(as, as)
  err_cde <- (exp(t1 * a + (t2 + t3 * a) * ms) - exp(t1 * as + (t2 + t3 * as) * ms)) / p00
  err_intref <- pr(a, as) / p00 - 1 - err_cde
  err_pie <- pr(as, a) / p00 - 1
  err_intmed <- pr(a, a) / p00 - 1 - err_cde - err_intref - err_pie
  c(cde = lcde, pnde = lpnde, tnde = ltnde, pnie = lpnie, tnie = ltnie,
    fw_cde = err_cde, fw_intref = err_intref, fw_intmed = err_intmed, fw_pie = err_pie)
}

rows <- list()
fits_all <- list()
for (nm in names(cases)) {
  cs <- cases[[nm]]
  fits <- fit_models(cs, jobs)
  fits_all[[nm]] <- fits
  est <- ikt(cs, fits, jobs)
  if (cs$int) est <- c(est, vanderweele(cs, fits))
  rows[[nm]] <- data.frame(case = nm, term = names(est), estimate = unname(est))
}
det <- do.call(rbind, rows)
con <- file(file.path(here, "causal_mediation_jobs.csv"), "w")
writeLines(c(header, "# deterministic plug-in estimands; fw_* = four-way decomposition"), con)
write.csv(det, con, row.names = FALSE)
close(con)

# ---------------------------------------------------------------------------
# 2. Monte Carlo intervals: re-implementation of mediation::mediate()
# ---------------------------------------------------------------------------
design_y <- function(fits, data, cs, t, mvals) {
  # outcome model matrix rows with treatment t and mediator mvals (one row per person)
  d <- data
  d[[cs$treat]] <- t
  d[[cs$med]] <- mvals
  model.matrix(delete.response(terms(fits$y)), d, xlev = fits$y$xlevels)
}
design_m <- function(fits, data, cs, t) {
  d <- data
  d[[cs$treat]] <- t
  model.matrix(delete.response(terms(fits$m)), d, xlev = fits$m$xlevels)
}

effects_from_sims <- function(cs, fits, data, MModel, YModel, sigma, integrated = FALSE) {
  # MModel, YModel: sims x p coefficient matrices (one row for a bootstrap replicate).
  # integrated = FALSE simulates the mediator as mediation::mediate() does;
  # integrated = TRUE averages over the mediator distribution instead (two-point sum, or
  # a 73-point trapezoid rule in the standardised residual), which removes the extra
  # simulation noise that mediate() adds to each draw.
  sims <- nrow(MModel)
  n <- nrow(data)
  Xm0 <- design_m(fits, data, cs, cs$t0)
  Xm1 <- design_m(fits, data, cs, cs$t1)
  mu0 <- tcrossprod(MModel, Xm0)
  mu1 <- tcrossprod(MModel, Xm1)
  if (integrated) {
    Fy <- inv_link(cs$ym)
    sig <- rep(sigma, length.out = sims)
    h <- 0.25
    z <- seq(-9, 9, by = h)
    wz <- h * dnorm(z)
    lin_int <- function(t, mu) {
      X0 <- design_y(fits, data, cs, t, 0)
      X1 <- design_y(fits, data, cs, t, 1)
      base <- tcrossprod(YModel, X0)
      slope <- tcrossprod(YModel, X1) - base
      if (cs$mm != "linear") {
        p <- inv_link(cs$mm)(mu)
        return(rowMeans(p * Fy(base + slope) + (1 - p) * Fy(base)))
      }
      if (cs$ym == "linear") return(rowMeans(base + slope * mu))
      acc <- 0
      for (k in seq_along(z)) acc <- acc + wz[k] * Fy(base + slope * (mu + sig * z[k]))
      rowMeans(acc)
    }
    e00 <- lin_int(cs$t0, mu0); e01 <- lin_int(cs$t0, mu1)
    e10 <- lin_int(cs$t1, mu0); e11 <- lin_int(cs$t1, mu1)
    return(ikt_from_means(e00, e01, e10, e11))
  }
  if (cs$mm == "linear") {
    err <- matrix(rnorm(sims * n, 0, rep(sigma, length.out = sims)), nrow = sims)
    PM0 <- mu0 + err
    PM1 <- mu1 + err
  } else {
    F <- inv_link(cs$mm)
    PM0 <- matrix(rbinom(sims * n, 1, F(mu0)), nrow = sims)
    PM1 <- matrix(rbinom(sims * n, 1, F(mu1)), nrow = sims)
  }
  Fy <- inv_link(cs$ym)
  # outcome linear predictor = base(t) + slope(t) * m, computed from two design rows
  lin <- function(t, PM) {
    X0 <- design_y(fits, data, cs, t, 0)
    X1 <- design_y(fits, data, cs, t, 1)
    base <- tcrossprod(YModel, X0)
    slope <- tcrossprod(YModel, X1) - base
    rowMeans(Fy(base + slope * PM))
  }
  e00 <- lin(cs$t0, PM0); e01 <- lin(cs$t0, PM1); e10 <- lin(cs$t1, PM0); e11 <- lin(cs$t1, PM1)
  ikt_from_means(e00, e01, e10, e11)
}

ikt_from_means <- function(e00, e01, e10, e11) {
  d0 <- e01 - e00; d1 <- e11 - e10; z0 <- e10 - e00; z1 <- e11 - e01; tau <- e11 - e00
  cbind(acme_control = d0, acme_treated = d1, acme_average = (d0 + d1) / 2,
        ade_control = z0, ade_treated = z1, ade_average = (z0 + z1) / 2, total = tau,
        prop_mediated_control = d0 / tau, prop_mediated_treated = d1 / tau,
        prop_mediated_average = (d0 / tau + d1 / tau) / 2)
}

quasi_bayes <- function(cs, fits, data, sims, integrated = FALSE) {
  MModel <- mvrnorm(sims, coef(fits$m), vcov(fits$m))
  YModel <- mvrnorm(sims, coef(fits$y), vcov(fits$y))
  sigma <- if (cs$mm == "linear") summary(fits$m)$sigma else NA
  effects_from_sims(cs, fits, data, MModel, YModel, sigma, integrated)
}

bootstrap <- function(cs, data, sims, integrated = FALSE) {
  out <- NULL
  for (b in seq_len(sims)) {
    idx <- sample.int(nrow(data), nrow(data), replace = TRUE)
    d <- data[idx, , drop = FALSE]
    fits <- fit_models(cs, d)
    sigma <- if (cs$mm == "linear") summary(fits$m)$sigma else NA
    eff <- effects_from_sims(cs, fits, d, t(coef(fits$m)), t(coef(fits$y)), sigma, integrated)
    out <- rbind(out, eff)
  }
  out
}

# variant "mediate": simulated mediators, as mediation::mediate(); "integrated": the
# mediator averaged out exactly (what mutualaid_outcomes computes for every draw).
mc_runs <- list(
  list(case = "domain", method = "bootstrap", sims = 5000, variant = "mediate"),
  list(case = "domain", method = "quasi_bayesian", sims = 5000, variant = "mediate"),
  list(case = "full", method = "quasi_bayesian", sims = 5000, variant = "mediate"),
  list(case = "logit_out", method = "quasi_bayesian", sims = 5000, variant = "mediate"),
  list(case = "logit_out", method = "bootstrap", sims = 2000, variant = "mediate"),
  list(case = "binmed", method = "bootstrap", sims = 2000, variant = "mediate"),
  list(case = "binmed_binout", method = "quasi_bayesian", sims = 5000, variant = "mediate"),
  list(case = "logit_out", method = "quasi_bayesian", sims = 3000, variant = "integrated"),
  list(case = "logit_out", method = "bootstrap", sims = 2000, variant = "integrated"),
  list(case = "binmed", method = "bootstrap", sims = 3000, variant = "integrated"),
  list(case = "binmed_binout", method = "quasi_bayesian", sims = 5000, variant = "integrated")
)
mc_rows <- list()
for (run in mc_runs) {
  cs <- cases[[run$case]]
  integ <- run$variant == "integrated"
  draws <- if (run$method == "bootstrap") bootstrap(cs, jobs, run$sims, integ) else
    quasi_bayes(cs, fits_all[[run$case]], jobs, run$sims, integ)
  q <- apply(draws, 2, quantile, probs = c(0.025, 0.975), na.rm = TRUE)
  mc_rows[[length(mc_rows) + 1]] <- data.frame(
    case = run$case, method = run$method, variant = run$variant, sims = run$sims,
    term = colnames(draws),
    mean = colMeans(draws), sd = apply(draws, 2, sd), conf_low = q[1, ], conf_high = q[2, ])
}
mc <- do.call(rbind, mc_rows)
con <- file(file.path(here, "causal_mediation_jobs_mc.csv"), "w")
writeLines(c(header, "# re-implementation of mediation::mediate (percentile 95% intervals)"), con)
write.csv(mc, con, row.names = FALSE)
close(con)

# ---------------------------------------------------------------------------
# 3. medsens() for linear models: feasible GLS of the stacked equations at fixed rho
# ---------------------------------------------------------------------------
medsens_linear <- function(model.m, model.y, treat, mediator, INT, rho, eps, conf = 0.95) {
  low <- (1 - conf) / 2; high <- 1 - low
  m.mat <- model.matrix(model.m); y.mat <- model.matrix(model.y)
  m.k <- ncol(m.mat); y.k <- ncol(y.mat); n <- nrow(m.mat)
  X <- rbind(cbind(m.mat, matrix(0, n, y.k)), cbind(matrix(0, n, m.k), y.mat))
  Y.c <- c(model.frame(model.m)[, 1], model.frame(model.y)[, 1])
  b.ols <- solve(crossprod(X), crossprod(X, Y.c))
  I <- Diagonal(n)
  int.lab <- paste(treat, mediator, sep = ":")
  res <- NULL
  for (r in rho) {
    b.tmp <- b.ols; b.dif <- 1; iter <- 0
    while (abs(b.dif) > eps && iter < 2000) {
      e.hat <- as.matrix(Y.c - X %*% b.tmp)
      e.1 <- e.hat[1:n]; e.2 <- e.hat[(n + 1):(2 * n)]
      omega <- matrix(NA, 2, 2)
      omega[1, 1] <- crossprod(e.1) / (n - 1)
      omega[2, 2] <- crossprod(e.2) / (n - 1)
      omega[1, 2] <- omega[2, 1] <- r * sd(e.1) * sd(e.2)
      v.i <- kronecker(solve(omega), I)
      Xv.i <- t(X) %*% v.i
      X.sur <- Xv.i %*% X
      b.sur <- solve(X.sur) %*% Xv.i %*% Y.c
      v.cov <- as.matrix(solve(X.sur))
      b.dif <- sum((b.sur - b.tmp)^2)
      b.tmp <- b.sur
      iter <- iter + 1
    }
    b <- as.numeric(b.tmp)
    names(b) <- c(colnames(m.mat), colnames(y.mat))
    colnames(v.cov) <- rownames(v.cov) <- names(b)
    bm <- b[1:m.k]; by <- b[(m.k + 1):(m.k + y.k)]
    vm <- v.cov[1:m.k, 1:m.k]; vy <- v.cov[(m.k + 1):(m.k + y.k), (m.k + 1):(m.k + y.k)]
    for (tt in if (INT) c(0, 1) else 0) {
      g <- by[[mediator]] + if (INT) tt * by[[int.lab]] else 0
      vg <- vy[mediator, mediator]
      if (INT) vg <- vg + tt^2 * vy[int.lab, int.lab] + 2 * tt * vy[mediator, int.lab]
      d <- bm[[treat]] * g
      v <- g^2 * vm[treat, treat] + bm[[treat]]^2 * vg
      eff <- if (!INT) "acme_average" else if (tt == 0) "acme_control" else "acme_treated"
      res <- rbind(res, data.frame(effect = eff, rho = r, acme = d, std_error = sqrt(v),
                                   conf_low = d + qnorm(low) * sqrt(v),
                                   conf_high = d + qnorm(high) * sqrt(v), iterations = iter))
    }
  }
  res
}

rho_grid <- round(seq(-0.9, 0.9, by = 0.01), 10)
sens_rows <- list()
for (nm in c("full", "domain", "int_linear")) {
  cs <- cases[[nm]]
  fits <- fits_all[[nm]]
  conv <- medsens_linear(fits$m, fits$y, cs$treat, cs$med, cs$int, rho_grid, eps = 1e-20)
  dflt <- medsens_linear(fits$m, fits$y, cs$treat, cs$med, cs$int, rho_grid,
                         eps = sqrt(.Machine$double.eps))
  # residual correlation with the outcome model without the mediator (Imai et al.'s rho~)
  y.red <- lm(as.formula(paste(cs$out, "~", paste(c(cs$treat, cs$covs), collapse = " + "))),
              data = jobs)
  r2m <- summary(fits$m)$r.squared; r2y <- summary(fits$y)$r.squared
  sens_rows[[nm]] <- data.frame(
    case = nm, conv, acme_default_eps = dflt$acme, conf_low_default_eps = dflt$conf_low,
    conf_high_default_eps = dflt$conf_high,
    rho_tilde = cor(residuals(fits$m), residuals(y.red)),
    r2star_prod = conv$rho^2, r2tilde_prod = conv$rho^2 * (1 - r2m) * (1 - r2y),
    r_squared_m = r2m, r_squared_y = r2y)
}
sens <- do.call(rbind, sens_rows)
con <- file(file.path(here, "causal_mediation_jobs_sens.csv"), "w")
writeLines(c(header, "# medsens() FGLS iteration (linear models), converged and default eps"), con)
write.csv(sens, con, row.names = FALSE)
close(con)
cat("done\n")

# ---------------------------------------------------------------------------
# 4. sensitivity for a probit outcome and a linear mediator (Imai, Keele & Yamamoto 2010)
#    causal_mediation_jobs_sens_probit.csv: ACME(t; rho) from the structural model implied
#    by rho, by adaptive integration over the mediator error (no closed form used):
#    with corr(e_M, e_Y*) = rho, the observed probit of Y on (T, M, X) has coefficients
#    theta~ = (theta - rho * beta / sigma) / sqrt(1 - rho^2) and
#    gamma~ = (gamma + rho / sigma) / sqrt(1 - rho^2); inverting gives the structural
#    (theta, gamma), and E[Y(t, M(t'))] = E_z Phi((x'theta(t) + gamma (mu(t') + sigma z)
#    + rho z) / sqrt(1 - rho^2)), z ~ N(0, 1).
#    Also medsens()'s own point formula (its err.cr expression
#    sigma * gamma~ / (1 + sqrt(sigma^2 gamma~^2)) differs from the
#    sigma * gamma~ / sqrt(1 + sigma^2 gamma~^2) implied by the model above).
# ---------------------------------------------------------------------------
probit_sens <- function(cs, fits, data, rho_grid) {
  bm <- coef(fits$m); sigma <- summary(fits$m)$sigma
  by <- coef(fits$y)
  gt <- by[[cs$med]]
  tht <- by[names(by) != cs$med]
  xm <- model.matrix(fits$m)
  out <- NULL
  for (r in rho_grid) {
    th <- tht * sqrt(1 - r^2) + r * bm / sigma
    g <- gt * sqrt(1 - r^2) - r / sigma
    e <- function(t, tp) {
      x_t <- xm; x_t[, cs$treat] <- t
      x_tp <- xm; x_tp[, cs$treat] <- tp
      a <- drop(x_t %*% th); mu <- drop(x_tp %*% bm)
      mean(vapply(seq_along(a), function(i) integrate(function(z)
        pnorm((a[i] + g * (mu[i] + sigma * z) + r * z) / sqrt(1 - r^2)) * dnorm(z),
        -Inf, Inf, rel.tol = 1e-11, abs.tol = 0)$value, numeric(1)))
    }
    d0 <- e(cs$t0, cs$t1) - e(cs$t0, cs$t0)
    d1 <- e(cs$t1, cs$t1) - e(cs$t1, cs$t0)
    # medsens' point formula with its err.cr expression
    rho12 <- sigma * gt / (1 + sqrt(sigma^2 * gt^2))
    ytc <- tht * sqrt(1 - rho12^2) + bm * rho12 / sigma
    gb <- (-r + rho12 * sqrt((1 - r^2) / (1 - rho12^2))) / sigma
    b2 <- bm[[cs$treat]]
    y0 <- xm; y0[, cs$treat] <- 0
    y1 <- xm; y1[, cs$treat] <- 1
    den <- sqrt(gb^2 * sigma^2 + 2 * gb * r * sigma + 1)
    ms0 <- mean(pnorm(y0 %*% ytc + gb * b2 / den) - pnorm(y0 %*% ytc))
    ms1 <- mean(pnorm(y1 %*% ytc) - pnorm(y1 %*% ytc - gb * b2 / den))
    out <- rbind(out, data.frame(rho = r, acme_control = d0, acme_treated = d1,
                                 medsens_formula_control = ms0, medsens_formula_treated = ms1))
  }
  lat <- drop(model.matrix(fits$y) %*% by)
  out$rho_tilde <- sigma * gt / sqrt(1 + sigma^2 * gt^2)
  out$r_squared_m <- summary(fits$m)$r.squared
  out$r_squared_y <- var(lat) / (1 + var(lat))
  out
}
ps <- probit_sens(cases$probit_out, fits_all$probit_out, jobs, round(seq(-0.9, 0.9, by = 0.1), 10))
con <- file(file.path(here, "causal_mediation_jobs_sens_probit.csv"), "w")
writeLines(c(header, "# probit outcome sensitivity (case probit_out), adaptive integration"), con)
write.csv(ps, con, row.names = FALSE)
close(con)
cat("done probit\n")
