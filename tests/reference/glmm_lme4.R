# Reference values for fit_mixed GLMMs (mutualaid_outcomes.models.regression.mixed).
# Run from the repository root:  Rscript tests/reference/glmm_lme4.R
# PIRLS to tolPwrss = 1e-13: at the default 1e-7 the deviance is noisy at ~1e-4.
# Data: lme4::cbpp (contagious bovine pleuropneumonia; Lesnoff et al. 2004) and
# lme4::grouseticks (Elston et al. 2001), exported to tests/data/.
suppressPackageStartupMessages(library(lme4))
dd <- "tests/data"
cb <- lme4::cbpp
cb$period <- as.integer(as.character(cb$period))
cb$herd <- as.integer(as.character(cb$herd))
write.csv(cb, file.path(dd, "glmm_cbpp.csv"), row.names = FALSE)
gt <- lme4::grouseticks[, c("INDEX", "TICKS", "BROOD", "HEIGHT", "YEAR", "LOCATION")]
gt$BROOD <- as.integer(as.character(gt$BROOD))
gt$LOCATION <- as.integer(as.character(gt$LOCATION))
gt$YEAR <- as.integer(as.character(gt$YEAR))
write.csv(gt, file.path(dd, "glmm_grouseticks.csv"), row.names = FALSE)
cb <- read.csv(file.path(dd, "glmm_cbpp.csv"))
gt <- read.csv(file.path(dd, "glmm_grouseticks.csv"))
gt$cheight <- (gt$HEIGHT - mean(gt$HEIGHT)) / 50
gt$fyear <- factor(gt$YEAR)
cb$fperiod <- factor(cb$period)
out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
ctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-13,
                    optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12, maxfun = 1e5))
run <- function(model, formula, data, nAGQ = 1) {
  fit <- glmer(formula, data = data, family = if (grepl("^grouse", model)) poisson else binomial,
               nAGQ = nAGQ, control = ctl)
  add(model, "coef", fixef(fit))
  add(model, "se", sqrt(diag(as.matrix(vcov(fit)))), names(fixef(fit)))
  add(model, "se_rx", sqrt(diag(as.matrix(vcov(fit, use.hessian = FALSE)))), names(fixef(fit)))
  add(model, "theta", getME(fit, "theta"))
  vc <- as.data.frame(VarCorr(fit))
  add(model, "sdcor", vc$sdcor, paste(vc$grp, vc$var1, ifelse(is.na(vc$var2), "", vc$var2),
                                      sep = "|"))
  add(model, "glance", c(loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit),
                          n = nobs(fit), n_groups = unname(ngrps(fit)[1])))
}
run("cbpp_laplace", cbind(incidence, size - incidence) ~ fperiod + (1 | herd), cb)
run("cbpp_agq10", cbind(incidence, size - incidence) ~ fperiod + (1 | herd), cb, nAGQ = 10)
run("cbpp_slope", cbind(incidence, size - incidence) ~ period + (period | herd), cb)
run("grouse_laplace", TICKS ~ fyear + cheight + (1 | BROOD), gt)
run("grouse_agq10", TICKS ~ fyear + cheight + (1 | BROOD), gt, nAGQ = 10)
run("grouse_slope", TICKS ~ fyear + cheight + (cheight | LOCATION), gt)
res <- do.call(rbind, out)
con <- file("tests/reference/glmm_lme4.csv", "w")
writeLines(sprintf("# R %s; lme4 %s", paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("lme4")), con)
write.csv(res, con, row.names = FALSE)
close(con)
