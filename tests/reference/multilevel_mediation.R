# Reference values for multilevel_mediation (mutualaid_outcomes.models.mediation.multilevel):
# the Bauer, Preacher & Gil (2006) stacked model fitted by lme4 on the same stacked data,
# the outcome rows weighted by 1/k^2 with k = sigma_Y / sigma_M from the two equations
# fitted separately (as multilevel_mediation does); the between-person paths come from
# those separate fits (the stacked outcome equation has no mediator person mean).
# Run from the repository root:  Rscript tests/reference/multilevel_mediation.R
suppressPackageStartupMessages(library(lme4))
d <- read.csv("tests/data/multilevel_mediation_sim.csv")
d$xb <- ave(d$meeting, d$id); d$xw <- d$meeting - d$xb
d$mb <- ave(d$craving, d$id); d$mw <- d$craving - d$mb
ctl <- lmerControl(optimizer = "bobyqa",
                   optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12, maxfun = 1e5))
out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
fm <- lmer(craving ~ xw + xb + (1 + xw | id), d, REML = TRUE, control = ctl)
fy <- lmer(drinks ~ mw + mb + xw + xb + (1 + mw | id), d, REML = TRUE, control = ctl)
k <- sigma(fy) / sigma(fm)
n <- nrow(d)
zero <- rep(0, n)
s <- data.frame(id = c(d$id, d$id), z = c(d$craving, d$drinks),
                sm = rep(c(1, 0), each = n), sy = rep(c(0, 1), each = n),
                sm_xw = c(d$xw, zero), sm_xb = c(d$xb, zero),
                sy_mw = c(zero, d$mw),
                sy_xw = c(zero, d$xw), sy_xb = c(zero, d$xb))
s$w <- ifelse(s$sm == 1, 1, 1 / k^2)
fit <- lmer(z ~ 0 + sm + sm_xw + sm_xb + sy + sy_mw + sy_xw + sy_xb +
              (0 + sm + sm_xw + sy + sy_mw | id),
            data = s, weights = w, REML = TRUE, control = ctl)
for (f in list(list("mediator", fm), list("outcome", fy))) {
  add(paste0("separate_", f[[1]]), "coef", fixef(f[[2]]))
  add(paste0("separate_", f[[1]]), "se", sqrt(diag(as.matrix(vcov(f[[2]])))), names(fixef(f[[2]])))
  add(paste0("separate_", f[[1]]), "glance", c(loglik = as.numeric(logLik(f[[2]])),
                                               sigma = sigma(f[[2]])))
}
model <- "stacked_ab"
add(model, "ratio", c(k = k))
add(model, "coef", fixef(fit))
add(model, "se", sqrt(diag(as.matrix(vcov(fit)))), names(fixef(fit)))
re <- VarCorr(fit)$id
nm <- rownames(re)
for (i in seq_along(nm)) for (j in seq_len(i)) add(model, "cov_re", re[i, j], paste(nm[i], nm[j], sep = "|"))
add(model, "sigma2", c(sigma2 = sigma(fit)^2))
add(model, "effect", c(indirect_within = fixef(fit)[["sm_xw"]] * fixef(fit)[["sy_mw"]] + re["sm_xw", "sy_mw"],
                       indirect_between = fixef(fm)[["xb"]] * fixef(fy)[["mb"]]))
add(model, "glance", c(loglik = as.numeric(logLik(fit)), n_y = n))
res <- do.call(rbind, out)
con <- file("tests/reference/multilevel_mediation.csv", "w")
writeLines(sprintf("# %s; lme4 %s", R.version.string, packageVersion("lme4")), con)
write.csv(res, con, row.names = FALSE)
close(con)
