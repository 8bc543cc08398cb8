# Reference values for fit_regression (mutualaid_outcomes.models.regression.glm).
# Run from the repository root:  Rscript tests/reference/regression.R
# Writes tests/reference/regression.csv (long: model, quantity, term, value) and
# exports the public data sets used to tests/data/.
suppressPackageStartupMessages({
  library(MASS); library(sandwich); library(pscl); library(ordinal)
})
dd <- "tests/data"
# Public data sets, exported once so Python and R read identical numbers.
q <- MASS::quine
write.csv(q, file.path(dd, "regression_quine.csv"), row.names = FALSE)
data("bioChemists", package = "pscl")
write.csv(bioChemists, file.path(dd, "regression_biochemists.csv"), row.names = FALSE)
wine <- ordinal::wine
write.csv(wine[, c("response", "rating", "temp", "contact", "bottle", "judge")],
          file.path(dd, "regression_wine.csv"), row.names = FALSE)
write.csv(datasets::infert[, c("case", "spontaneous", "induced", "age", "stratum")],
          file.path(dd, "regression_infert.csv"), row.names = FALSE)
write.csv(datasets::warpbreaks, file.path(dd, "regression_warpbreaks.csv"), row.names = FALSE)

# Read back from CSV so factor levels are built exactly as Python builds them.
sim <- read.csv(file.path(dd, "regression_sim.csv"), stringsAsFactors = TRUE)
quine <- read.csv(file.path(dd, "regression_quine.csv"), stringsAsFactors = TRUE)
bio <- read.csv(file.path(dd, "regression_biochemists.csv"), stringsAsFactors = TRUE)
wine <- read.csv(file.path(dd, "regression_wine.csv"), stringsAsFactors = TRUE)
infert <- read.csv(file.path(dd, "regression_infert.csv"))
warp <- read.csv(file.path(dd, "regression_warpbreaks.csv"), stringsAsFactors = TRUE)

out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
se <- function(v) sqrt(diag(v))
add_glm <- function(model, fit, cluster = NULL, hc = c("HC0", "HC1", "HC2", "HC3")) {
  add(model, "coef", coef(fit))
  add(model, "se_nonrobust", se(vcov(fit)))
  for (h in hc) add(model, paste0("se_", h), se(vcovHC(fit, type = h)))
  if (!is.null(cluster)) {
    # vcovCL defaults: type = "HC0" for glm objects (cadjust G/(G-1) only)
    add(model, "se_cluster_HC0", se(vcovCL(fit, cluster = cluster)))
    add(model, "se_cluster_HC1", se(vcovCL(fit, cluster = cluster, type = "HC1")))
  }
  ll <- logLik(fit)
  add(model, "glance", c(loglik = as.numeric(ll), aic = AIC(fit), bic = BIC(fit),
                          deviance = deviance(fit), df_resid = df.residual(fit)))
}

# IRLS run to full convergence so the working weights (and hence SEs) are those at
# the estimates, not at the previous iterate (glm's default epsilon = 1e-8).
ctl <- glm.control(epsilon = 1e-14, maxit = 200)
# Gaussian, binomial (logit, probit), Poisson on the simulated data (cluster = cluster)
f <- ~ x1 + x2 + grp
# vcovCL default for lm objects is type = "HC1": G/(G-1) * (n-1)/(n-k)
add("gaussian", "se_cluster_lm", se(vcovCL(lm(update(f, y_gauss ~ .), data = sim),
                                           cluster = ~cluster)))
add_glm("gaussian", glm(update(f, y_gauss ~ .), data = sim, control = ctl), ~cluster)
add_glm("gaussian_w", glm(update(f, y_gauss ~ .), data = sim, weights = w, control = ctl), ~cluster)
add_glm("logit", glm(update(f, y_bin ~ .), binomial, data = sim, control = ctl), ~cluster)
add_glm("probit", glm(update(f, y_bin ~ .), binomial("probit"), data = sim, control = ctl), ~cluster)
add_glm("poisson", glm(update(f, y_count ~ .), poisson, data = sim, control = ctl), ~cluster)
add_glm("poisson_w", glm(update(f, y_count ~ .), poisson, data = sim, weights = w, control = ctl), ~cluster,
        hc = c("HC0", "HC3"))
add_glm("logit_infert", glm(case ~ spontaneous + induced + age, binomial, data = infert, control = ctl),
        ~stratum)
add_glm("poisson_warp", glm(breaks ~ wool + tension, poisson, data = warp, control = ctl), NULL)

# Offsets (rate models): log of the weight column as exposure
sim$logw <- log(sim$w)
add_glm("poisson_off", glm(y_count ~ x1 + x2 + grp + offset(logw), poisson, data = sim,
                           control = ctl), ~cluster, hc = c("HC0"))
nb_off <- glm.nb(y_nb ~ x1 + x2 + grp + offset(logw), data = sim,
                 control = glm.control(epsilon = 1e-14, maxit = 200))
add_glm("nb_off", nb_off, NULL, hc = c("HC0"))
add("nb_off", "theta", c(theta = nb_off$theta))

# Fractional logit: quasi-binomial GLM; robust (HC0) and cluster-robust SEs
frac <- suppressWarnings(glm(update(f, y_frac ~ .), quasibinomial, data = sim, control = ctl))
add_glm("fractional", frac, ~cluster, hc = c("HC0", "HC1", "HC3"))

# Negative binomial, theta by ML (glm.nb)
# glm.nb's SE.theta is sqrt(1/info) with the information evaluated one Newton step
# before theta.ml's final update (stopping rule eps = .Machine$double.eps^0.25), so
# theta_se_mle re-evaluates it at the converged theta (theta.ml run to eps = 1e-14).
nb_ref <- function(model, fit, cluster, y) {
  add_glm(model, fit, cluster, hc = c("HC0", "HC1"))
  th <- theta.ml(y, fitted(fit), limit = 100, eps = 1e-14)
  add(model, "theta", c(theta = fit$theta, theta_se = fit$SE.theta,
                        theta_se_mle = attr(th, "SE")))
}
nbctl <- glm.control(epsilon = 1e-14, maxit = 200)
nb_ref("nb_quine", glm.nb(Days ~ Eth + Sex + Age + Lrn, data = quine, control = nbctl),
       NULL, quine$Days)
nb_ref("nb_sim", glm.nb(update(f, y_nb ~ .), data = sim, control = nbctl), ~cluster, sim$y_nb)
nbw <- glm.nb(update(f, y_nb ~ .), data = sim, weights = w, control = nbctl)
add_glm("nb_w", nbw, ~cluster, hc = c("HC0"))
add("nb_w", "theta", c(theta = nbw$theta))

# Zero-inflated Poisson / NB (pscl::zeroinfl; default: same regressors in both parts)
zf <- art ~ fem + mar + kid5 + phd + ment
zip <- zeroinfl(zf, data = bio, dist = "poisson")
zinb <- zeroinfl(zf, data = bio, dist = "negbin")
zinb1 <- zeroinfl(art ~ fem + mar + kid5 + phd + ment | ment, data = bio, dist = "negbin")
for (nm in c("zip", "zinb", "zinb1")) {
  fit <- get(nm)
  add(nm, "coef", coef(fit))
  add(nm, "se_nonrobust", se(vcov(fit)))
  add(nm, "se_HC0", se(sandwich(fit)))
  add(nm, "glance", c(loglik = as.numeric(logLik(fit)), aic = AIC(fit)))
  if (fit$dist == "negbin") add(nm, "theta", c(theta = fit$theta, theta_se = fit$SE.logtheta))
}

# Ordinal logit (cumulative link, logit): ordinal::clm
cw <- clm(factor(rating) ~ temp + contact, data = wine)
add("clm_wine", "coef", coef(cw))
add("clm_wine", "se_nonrobust", se(vcov(cw)))
add("clm_wine", "glance", c(loglik = as.numeric(logLik(cw)), aic = AIC(cw)))
co <- clm(factor(y_ord) ~ x1 + x2 + grp, data = sim)
add("clm_sim", "coef", coef(co))
add("clm_sim", "se_nonrobust", se(vcov(co)))
add("clm_sim", "glance", c(loglik = as.numeric(logLik(co)), aic = AIC(co)))

# Sample cohort (tests/data/regression_sample_pda.csv): PDA at month 15 by fractional
# logit with site-clustered SEs; AA meetings in months 0-3 by Poisson with robust SEs.
samp <- read.csv(file.path(dd, "regression_sample_pda.csv"), stringsAsFactors = TRUE)
samp$arm <- relevel(samp$arm, ref = "MET")
m15 <- samp[samp$month == 15 & !is.na(samp$pda), ]
fs <- suppressWarnings(glm(pda ~ arm, quasibinomial, data = m15, control = ctl))
add_glm("sample_frac", fs, ~site, hc = c("HC0"))
m3 <- samp[samp$month == 3 & !is.na(samp$aa_meetings), ]
# (glm.nb fails here: theta.ml diverges on this bimodal attendance distribution)
pm <- glm(aa_meetings ~ arm, poisson, data = m3, control = ctl)
add_glm("sample_poisson", pm, ~site, hc = c("HC0"))

res <- do.call(rbind, out)
path <- "tests/reference/regression.csv"
con <- file(path, "w")
writeLines(sprintf("# R %s; MASS %s; sandwich %s; pscl %s; ordinal %s",
                   paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("MASS"), packageVersion("sandwich"),
                   packageVersion("pscl"), packageVersion("ordinal")), con)
write.csv(res, con, row.names = FALSE)
close(con)
