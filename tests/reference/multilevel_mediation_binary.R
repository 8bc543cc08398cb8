# Reference values for multilevel_mediation with a binary outcome
# (mutualaid_outcomes.models.mediation.multilevel, outcome_family = "binomial"):
# the a-path equation by lme4 lmer (REML) and the b-path equation by lme4 glmer
# (binomial, Laplace), fitted separately on the same person-mean-centred data.
# Data: tests/data/multilevel_mediation_binary_sim.csv, written by
# tests/reference/multilevel_mediation_data.py (simulate_binary).
# Run from the repository root:  Rscript tests/reference/multilevel_mediation_binary.R
suppressPackageStartupMessages(library(lme4))
d <- read.csv("tests/data/multilevel_mediation_binary_sim.csv")
d$xb <- ave(d$meeting, d$id); d$xw <- d$meeting - d$xb
d$mb <- ave(d$craving, d$id); d$mw <- d$craving - d$mb
lctl <- lmerControl(optimizer = "bobyqa",
                    optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12, maxfun = 1e5))
gctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-13,
                     optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12, maxfun = 1e5))
out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
fm <- lmer(craving ~ xw + xb + (1 + xw | id), d, REML = TRUE, control = lctl)
fy <- glmer(drank ~ mw + mb + xw + xb + (1 + mw | id), d, family = binomial,
            control = gctl)
for (f in list(list("mediator", fm), list("outcome", fy))) {
  fit <- f[[2]]
  add(f[[1]], "coef", fixef(fit))
  add(f[[1]], "se", sqrt(diag(as.matrix(vcov(fit)))), names(fixef(fit)))
  re <- VarCorr(fit)$id
  nm <- rownames(re)
  for (i in seq_along(nm)) for (j in seq_len(i))
    add(f[[1]], "cov_re", re[i, j], paste(nm[i], nm[j], sep = "|"))
  add(f[[1]], "glance", c(loglik = as.numeric(logLik(fit))))
}
add("effects", "estimate",
    c(indirect_within = fixef(fm)[["xw"]] * fixef(fy)[["mw"]],
      indirect_between = fixef(fm)[["xb"]] * fixef(fy)[["mb"]]))
res <- do.call(rbind, out)
con <- file("tests/reference/multilevel_mediation_binary.csv", "w")
writeLines(sprintf("# %s; lme4 %s; Matrix %s", R.version.string, packageVersion("lme4"),
                   packageVersion("Matrix")), con)
write.csv(res, con, row.names = FALSE)
close(con)
