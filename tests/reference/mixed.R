# Reference values for fit_mixed (mutualaid_outcomes.models.regression.mixed).
# Run from the repository root:  Rscript tests/reference/mixed.R
suppressPackageStartupMessages(library(lme4))
dd <- "tests/data"
write.csv(lme4::sleepstudy, file.path(dd, "mixed_sleepstudy.csv"), row.names = FALSE)
sleep <- read.csv(file.path(dd, "mixed_sleepstudy.csv"))
drop <- read.csv(file.path(dd, "regression_gee_dropout.csv"))
out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
ctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12,
                                                         maxfun = 1e5))
run <- function(model, formula, data, reml) {
  fit <- lmer(formula, data = data, REML = reml, control = ctl)
  add(model, "coef", fixef(fit))
  add(model, "se", sqrt(diag(as.matrix(vcov(fit)))), names(fixef(fit)))
  vc <- as.data.frame(VarCorr(fit))
  add(model, "varcorr", vc$vcov, paste(vc$grp, vc$var1, ifelse(is.na(vc$var2), "", vc$var2),
                                       sep = "|"))
  add(model, "glance", c(loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit),
                          sigma = sigma(fit), n = nobs(fit),
                          n_groups = unname(ngrps(fit)[1])))
}
for (reml in c(TRUE, FALSE)) {
  tag <- if (reml) "reml" else "ml"
  run(paste0("sleep_slope_", tag), Reaction ~ Days + (Days | Subject), sleep, reml)
  run(paste0("sleep_int_", tag), Reaction ~ Days + (1 | Subject), sleep, reml)
  run(paste0("drop_int_", tag), y ~ arm + x + month + (1 | id), drop, reml)
  run(paste0("drop_slope_", tag), y ~ arm + x + month + (month | id), drop, reml)
}
res <- do.call(rbind, out)
con <- file("tests/reference/mixed.csv", "w")
writeLines(sprintf("# R %s; lme4 %s", paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("lme4")), con)
write.csv(res, con, row.names = FALSE)
close(con)
