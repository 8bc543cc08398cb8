# Reference values for fit_mixed with several random-effect terms (nested, crossed and
# interaction grouping factors; mutualaid_outcomes.models.regression.mixed).
# Run from the repository root:  Rscript tests/reference/mixed_multi.R
# Data: lme4::Penicillin (crossed plate x sample; Davies & Goldsmith 1972),
# lme4::Pastes (nested batch/cask; Davies & Goldsmith 1972), lme4::cake (recipe:replicate;
# Cook 1938), nlme::Pixel (nested Dog/Side with a random slope on day; Pinheiro & Bates
# 2000) and lme4::VerbAgg (crossed id x item,
# binary; De Boeck & Wilson 2004), the latter reduced to the first 100 respondents.
# Fits to tight convergence: bobyqa rhoend = 1e-12, PIRLS tolPwrss = 1e-13.
suppressPackageStartupMessages(library(lme4))
dd <- "tests/data"
pen <- lme4::Penicillin
pen$plate <- as.character(pen$plate); pen$sample <- as.character(pen$sample)
write.csv(pen, file.path(dd, "mixed_penicillin.csv"), row.names = FALSE)
pas <- lme4::Pastes[, c("strength", "batch", "cask")]
pas$batch <- as.character(pas$batch); pas$cask <- as.character(pas$cask)
write.csv(pas, file.path(dd, "mixed_pastes.csv"), row.names = FALSE)
ck <- lme4::cake[, c("replicate", "recipe", "temp", "angle")]
ck$replicate <- as.integer(as.character(ck$replicate)); ck$recipe <- as.character(ck$recipe)
write.csv(ck, file.path(dd, "mixed_cake.csv"), row.names = FALSE)
px <- as.data.frame(nlme::Pixel)
px <- data.frame(dog = as.integer(as.character(px$Dog)), side = as.character(px$Side),
                 day = px$day, pixel = px$pixel)
write.csv(px, file.path(dd, "mixed_pixel.csv"), row.names = FALSE)
va <- lme4::VerbAgg
va <- va[as.integer(as.character(va$id)) <= 100, ]
va <- data.frame(id = as.integer(as.character(va$id)), item = as.character(va$item),
                 Anger = va$Anger, Gender = as.character(va$Gender),
                 btype = as.character(va$btype), situ = as.character(va$situ),
                 r2 = as.integer(va$r2 == "Y"))
write.csv(va, file.path(dd, "glmm_verbagg100.csv"), row.names = FALSE)
pen <- read.csv(file.path(dd, "mixed_penicillin.csv"))
pas <- read.csv(file.path(dd, "mixed_pastes.csv"))
ck <- read.csv(file.path(dd, "mixed_cake.csv")); ck$ctemp <- (ck$temp - 200) / 10
px <- read.csv(file.path(dd, "mixed_pixel.csv")); px$day2 <- px$day^2 / 10
va <- read.csv(file.path(dd, "glmm_verbagg100.csv"))
out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
lctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12,
                                                          maxfun = 1e5))
gctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-13,
                     optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12, maxfun = 1e5))
common <- function(model, fit) {
  add(model, "coef", fixef(fit))
  add(model, "se", sqrt(diag(as.matrix(vcov(fit)))), names(fixef(fit)))
  vc <- as.data.frame(VarCorr(fit))
  key <- paste(vc$grp, vc$var1, ifelse(is.na(vc$var2), "", vc$var2), sep = "|")
  add(model, "vcov", vc$vcov, key)
  add(model, "sdcor", vc$sdcor, key)
  ng <- ngrps(fit)
  add(model, "ngrps", ng, names(ng))
  add(model, "glance", c(loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit),
                          sigma = sigma(fit), n = nobs(fit)))
  re <- ranef(fit)
  for (g in names(re)) {
    for (v in names(re[[g]])) {
      add(model, "ranef", re[[g]][[v]], paste(g, v, rownames(re[[g]]), sep = "|"))
    }
  }
}
lrun <- function(model, formula, data, reml) {
  fit <- lmer(formula, data = data, REML = reml, control = lctl)
  common(model, fit)
  pl <- predict(fit, re.form = NA)
  add(model, "predict_marginal", pl[1:6], paste0("row", 1:6))
  add(model, "predict_conditional", predict(fit)[1:6], paste0("row", 1:6))
}
grun <- function(model, formula, data) {
  fit <- glmer(formula, data = data, family = binomial, control = gctl)
  common(model, fit)
  add(model, "se_rx", sqrt(diag(as.matrix(vcov(fit, use.hessian = FALSE)))), names(fixef(fit)))
  add(model, "predict_conditional", predict(fit, type = "response")[1:6], paste0("row", 1:6))
}
for (reml in c(TRUE, FALSE)) {
  tag <- if (reml) "reml" else "ml"
  lrun(paste0("penicillin_", tag), diameter ~ 1 + (1 | plate) + (1 | sample), pen, reml)
  lrun(paste0("pastes_", tag), strength ~ 1 + (1 | batch/cask), pas, reml)
  lrun(paste0("cake_", tag), angle ~ recipe + ctemp + (1 | recipe:replicate), ck, reml)
  lrun(paste0("pixel_", tag), pixel ~ day + day2 + (day | dog) + (1 | dog:side), px, reml)
}
# Level-specific predictions of the nested model (site-level only: re.form = ~ (1 | batch)).
fit <- lmer(strength ~ 1 + (1 | batch/cask), data = pas, REML = TRUE, control = lctl)
add("pastes_reml", "predict_batch", predict(fit, re.form = ~ (1 | batch))[1:6],
    paste0("row", 1:6))
grun("verbagg_crossed", r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), va)
grun("verbagg_slope", r2 ~ Anger + Gender + btype + situ + (1 + situ | id) + (1 | item), va)
res <- do.call(rbind, out)
con <- file("tests/reference/mixed_multi.csv", "w")
writeLines(sprintf("# R %s; lme4 %s; nlme %s", paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("lme4"), packageVersion("nlme")), con)
write.csv(res, con, row.names = FALSE)
close(con)
for (m in unique(res$model)) {
  cat(m, "\n"); print(subset(res, model == m & quantity %in% c("sdcor", "glance", "coef")))
}
