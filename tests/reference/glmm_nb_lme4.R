# Reference values for negative binomial fit_mixed (lme4::glmer.nb) and for binomial
# fit_mixed with a trials column (glmer with a proportion outcome and weights = trials).
# Run from the repository root:  Rscript tests/reference/glmm_nb_lme4.R
# Data: lme4::grouseticks (Elston et al. 2001; tests/data/glmm_grouseticks.csv, written by
# glmm_lme4.R), MASS::epil (Thall & Vail 1990, exported here to tests/data/glmm_epil.csv)
# and lme4::cbpp (tests/data/glmm_cbpp.csv).
#
# glmer.nb (lme4 1.1.31) fits a Poisson GLMM, takes MASS::theta.ml on its conditional
# means as a start, then maximises the profile log-likelihood of theta: optimize() over
# log(theta) in log(start) +- 3, each evaluation a full glmer refit at fixed theta
# (lme4:::optTheta). Its `tol` (5e-5 on log theta) cannot be tightened through
# glmer.nb(tol = ) in lme4 1.1.31 (the argument is forwarded to glmer(), which rejects it),
# so nb_fit() runs glmer.nb's own steps with optimize()'s tol at 1e-10. PIRLS at
# tolPwrss = 1e-10: at 1e-12 and below lme4's PIRLS stops with "pwrssUpdate did not
# converge" for the negative binomial.
suppressPackageStartupMessages({
  library(lme4)
  library(MASS)
})
dd <- "tests/data"
write.csv(MASS::epil, file.path(dd, "glmm_epil.csv"), row.names = FALSE)
ep <- read.csv(file.path(dd, "glmm_epil.csv"))
gt <- read.csv(file.path(dd, "glmm_grouseticks.csv"))
gt$cheight <- (gt$HEIGHT - mean(gt$HEIGHT)) / 50
gt$fyear <- factor(gt$YEAR)
cb <- read.csv(file.path(dd, "glmm_cbpp.csv"))
cb$fperiod <- factor(cb$period)
out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-10,
                    optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12, maxfun = 1e5))
TOL_THETA <- 1e-10

# Saturated NB log-likelihood: lme4's nAGQ > 1 deviance sums deviance residuals, so its
# logLik omits it; for the negative binomial it depends on theta.
nb_saturated <- function(y, th) sum(dnbinom(y, size = th, mu = y, log = TRUE))

nb_fit <- function(formula, data, nAGQ = 1) {
  g0 <- glmer(formula, data = data, family = poisson, nAGQ = nAGQ, control = ctl)
  th <- lme4:::est_theta(g0, limit = 20, eps = 2 * 5e-5)  # glmer.nb's initCtrl
  g1 <- glmer(formula, data = data, family = MASS::negative.binomial(theta = th),
              nAGQ = nAGQ, control = ctl)
  if (nAGQ == 1) {
    return(lme4:::optTheta(g1, interval = log(th) + c(-3, 3), tol = TOL_THETA, control = ctl))
  }
  # nAGQ > 1: the same profile, but of the full log-likelihood (logLik plus the saturated
  # term); glmer.nb itself maximises logLik, which omits the theta-dependent term.
  y <- model.response(model.frame(g1))
  last <- g1
  prof <- function(t) {
    last <<- lme4:::refitNB(last, theta = exp(t), control = ctl)
    -2 * (as.numeric(logLik(last)) + nb_saturated(y, exp(t)))
  }
  opt <- optimize(prof, interval = log(th) + c(-3, 3), tol = TOL_THETA)
  lme4:::refitNB(last, theta = exp(opt$minimum), control = ctl)
}

# The Laplace log-likelihood at a fit's estimates from its formula, with the conditional
# modes solved to machine precision (scalar random effect; Newton steps with the observed
# information, log-determinant with the IRLS weights as lme4). lme4's own logLik keeps the
# Cholesky factor of the PIRLS iterate before its last step, which moves it by ~1e-6.
exact_laplace <- function(fit) {
  th <- getME(fit, "glmer.nb.theta")
  X <- getME(fit, "X"); y <- getME(fit, "y"); g <- as.integer(getME(fit, "flist")[[1]])
  lam <- getME(fit, "theta"); fx <- drop(X %*% fixef(fit)); u <- rep(0, max(g))
  for (it in 1:200) {
    mu <- exp(fx + lam * u[g])
    s <- th * (y - mu) / (th + mu); o <- th * mu * (th + y) / (th + mu)^2
    u <- u + (lam * tapply(s, g, sum) - u) / (lam^2 * tapply(o, g, sum) + 1)
  }
  mu <- exp(fx + lam * u[g])
  w <- th * mu / (th + mu)
  sum(dnbinom(y, size = th, mu = mu, log = TRUE)) - sum(u^2) / 2 -
    sum(log(lam^2 * tapply(w, g, sum) + 1)) / 2
}

record <- function(model, fit, nAGQ = 1) {
  add(model, "coef", fixef(fit))
  add(model, "se", sqrt(diag(as.matrix(vcov(fit)))), names(fixef(fit)))
  add(model, "theta", getME(fit, "theta"))
  vc <- as.data.frame(VarCorr(fit))
  add(model, "sdcor", vc$sdcor, paste(vc$grp, vc$var1, ifelse(is.na(vc$var2), "", vc$var2),
                                      sep = "|"))
  th <- getME(fit, "glmer.nb.theta")
  add(model, "nb_theta", c(nb_theta = th))
  ll <- as.numeric(logLik(fit))
  if (nAGQ > 1) ll <- ll + nb_saturated(getME(fit, "y"), th)
  add(model, "glance", c(loglik = ll, aic = -2 * ll + 2 * attr(logLik(fit), "df"),
                          bic = -2 * ll + log(nobs(fit)) * attr(logLik(fit), "df"),
                          n = nobs(fit), n_groups = unname(ngrps(fit)[1])))
  if (nAGQ == 1) add(model, "loglik_exact", c(loglik_exact = exact_laplace(fit)))
}

f_grouse <- TICKS ~ fyear + cheight + (1 | BROOD)
record("grouse_nb_laplace", nb_fit(f_grouse, gt))
record("epil_nb_laplace", nb_fit(y ~ lbase * trt + lage + V4 + (1 | subject), ep))
record("grouse_nb_agq10", nb_fit(f_grouse, gt, nAGQ = 10), nAGQ = 10)
# glmer.nb as shipped with nAGQ = 10 (default tol): theta maximises logLik without the
# saturated term; its full log-likelihood is recorded to show it is not the maximum.
g10 <- glmer.nb(f_grouse, data = gt, nAGQ = 10, control = ctl)
add("grouse_glmer.nb_agq10", "nb_theta", c(nb_theta = getME(g10, "glmer.nb.theta")))
add("grouse_glmer.nb_agq10", "glance",
    c(loglik = as.numeric(logLik(g10)) + nb_saturated(gt$TICKS, getME(g10, "glmer.nb.theta"))))

# Binomial with trials: a proportion outcome with weights = trials is the cbind() model.
ctl_b <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-13,
                      optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12, maxfun = 1e5))
fb <- glmer(incidence / size ~ fperiod + (1 | herd), data = cb, weights = size,
            family = binomial, control = ctl_b)
add("cbpp_trials_laplace", "coef", fixef(fb))
add("cbpp_trials_laplace", "se", sqrt(diag(as.matrix(vcov(fb)))), names(fixef(fb)))
add("cbpp_trials_laplace", "theta", getME(fb, "theta"))
add("cbpp_trials_laplace", "glance", c(loglik = as.numeric(logLik(fb))))

res <- do.call(rbind, out)
con <- file("tests/reference/glmm_nb_lme4.csv", "w")
writeLines(sprintf("# R %s; lme4 %s; MASS %s",
                   paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("lme4"), packageVersion("MASS")), con)
write.csv(res, con, row.names = FALSE)
close(con)
