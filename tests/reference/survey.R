# Reference values for mutualaid_outcomes.models.survey (design-based estimation).
# Run from the repository root:  Rscript tests/reference/survey.R
# Exports the public data sets of R's survey package that the tests use to tests/data/
# (survey_apistrat.csv, survey_apiclus1.csv, survey_apiclus2.csv, survey_nhanes.csv),
# fixed replicate weights (survey_apiclus1_jk1.csv, survey_apistrat_boot.csv), and writes
# tests/reference/survey.csv (long: case, quantity, term, value).
suppressPackageStartupMessages(library(survey))
dd <- "tests/data"
data(api); data(nhanes)
keep <- c("snum", "dnum", "stype", "api00", "api99", "enroll", "api.stu", "meals", "ell",
          "mobility", "sch.wide", "awards", "yr.rnd", "pw", "fpc")
clean <- function(d) { names(d) <- gsub(".", "_", names(d), fixed = TRUE); d }
strat <- clean(apistrat[, keep])
clus1 <- clean(apiclus1[, keep])
clus2 <- clean(apiclus2[, c(setdiff(keep, "fpc"), "fpc1", "fpc2")])
nh <- nhanes; nh$agecat <- as.character(nh$agecat)
write.csv(strat, file.path(dd, "survey_apistrat.csv"), row.names = FALSE)
write.csv(clus1, file.path(dd, "survey_apiclus1.csv"), row.names = FALSE)
write.csv(clus2, file.path(dd, "survey_apiclus2.csv"), row.names = FALSE)
write.csv(nh, file.path(dd, "survey_nhanes.csv"), row.names = FALSE)
# read back so both sides see identical numbers and factor levels
rd <- function(f) read.csv(file.path(dd, f), stringsAsFactors = TRUE)
strat <- rd("survey_apistrat.csv"); clus1 <- rd("survey_apiclus1.csv")
clus2 <- rd("survey_apiclus2.csv"); nh <- rd("survey_nhanes.csv")
nh$agecat <- factor(nh$agecat)

out <- list()
add <- function(case, quantity, values, terms = names(values)) {
  if (is.null(terms)) terms <- seq_along(values)
  out[[length(out) + 1]] <<- data.frame(case = case, quantity = quantity,
                                        term = as.character(terms),
                                        value = unname(as.numeric(values)))
}
ctl <- glm.control(epsilon = 1e-14, maxit = 200)

designs <- list(
  strat = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat),
  clus1 = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1),
  clus2 = svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2),
  clus1nofpc = svydesign(id = ~dnum, weights = ~pw, data = clus1)
)
# replicate designs: JK1 from as.svrepdesign, bootstrap exported so Python uses the same
jk1 <- as.svrepdesign(designs$clus1, type = "JK1")
jkw <- weights(jk1, "analysis"); colnames(jkw) <- paste0("jk", seq_len(ncol(jkw)))
write.csv(cbind(clus1, jkw), file.path(dd, "survey_apiclus1_jk1.csv"), row.names = FALSE)
add("jk1", "design", c(scale = jk1$scale, degf = degf(jk1)))
set.seed(20240611)
boot <- as.svrepdesign(designs$strat, type = "bootstrap", replicates = 50, compress = FALSE)
bw <- weights(boot, "analysis"); colnames(bw) <- paste0("bs", seq_len(ncol(bw)))
write.csv(cbind(strat, bw), file.path(dd, "survey_apistrat_boot.csv"), row.names = FALSE)
add("boot", "design", c(scale = boot$scale, degf = degf(boot)))
jkn <- as.svrepdesign(designs$strat, type = "JKn")
add("jkn", "design", c(scale = jkn$scale, degf = degf(jkn)))
designs$jk1 <- jk1; designs$boot <- boot; designs$jkn <- jkn

stat <- function(case, what, x) {
  add(case, paste0(what, "_est"), coef(x))
  add(case, paste0(what, "_se"), SE(x))
  d <- attr(x, "deff")
  if (!is.null(d)) add(case, paste0(what, "_deff"), if (is.matrix(d)) diag(d) else d,
                       names(coef(x)))
}
for (case in names(designs)) {
  d <- designs[[case]]
  add(case, "degf", c(degf = degf(d)))
  stat(case, "mean", svymean(~api00 + enroll, d, deff = TRUE, na.rm = TRUE))
  stat(case, "mean_factor", svymean(~stype, d))
  stat(case, "total", svytotal(~enroll, d, deff = TRUE, na.rm = TRUE))
  rep <- inherits(d, "svyrep.design")
  r <- svyratio(~api_stu, ~enroll, d, deff = !rep, na.rm = TRUE)
  add(case, "ratio_est", coef(r)); add(case, "ratio_se", SE(r))
  if (!rep) add(case, "ratio_deff", attr(r, "deff"))
  b <- svyby(~api00, ~awards, d, svymean, deff = TRUE)
  add(case, "by_mean_est", coef(b)); add(case, "by_mean_se", SE(b))
  add(case, "by_mean_deff", deff(b), names(coef(b)))
  b <- svyby(~enroll, ~awards + yr_rnd, d, svytotal, na.rm = TRUE)
  add(case, "by_total_est", coef(b)); add(case, "by_total_se", SE(b))
  q <- svyquantile(~api00, d, quantiles = c(0.25, 0.5, 0.9))
  add(case, "quantile_est", coef(q)); add(case, "quantile_se", SE(q))
  ci <- confint(q); add(case, "quantile_low", ci[, 1]); add(case, "quantile_high", ci[, 2])
  # Woodruff limits per domain (confint() of an svyby object would be symmetric)
  qb <- svyby(~api00, ~awards, d, svyquantile, quantiles = 0.5, vartype = c("se", "ci"))
  add(case, "by_quantile_est", coef(qb)); add(case, "by_quantile_se", SE(qb))
  add(case, "by_quantile_low", qb$ci_l, names(coef(qb)))
  add(case, "by_quantile_high", qb$ci_u, names(coef(qb)))
  for (m in c("logit", "beta", "mean", "asin", "xlogit")) {
    p <- svyciprop(~I(sch_wide == "Yes"), d, method = m)
    add(case, paste0("prop_", m), c(est = coef(p), low = attr(p, "ci")[1],
                                    high = attr(p, "ci")[2], se = SE(p)))
    pb <- svyby(~I(sch_wide == "Yes"), ~stype, d, svyciprop, method = m, vartype = "ci")
    add(case, paste0("by_prop_", m, "_est"), coef(pb))
    add(case, paste0("by_prop_", m, "_low"), pb$ci_l, names(coef(pb)))
    add(case, paste0("by_prop_", m, "_high"), pb$ci_u, names(coef(pb)))
  }
  g <- svyglm(api00 ~ ell + meals + mobility, d, control = ctl)
  add(case, "glm_gauss_coef", coef(g)); add(case, "glm_gauss_se", SE(g))
  add(case, "glm_gauss_df", c(df = g$df.residual))
  g <- svyglm(sch_wide ~ ell + meals + stype, d, family = quasibinomial(), control = ctl)
  add(case, "glm_logit_coef", coef(g)); add(case, "glm_logit_se", SE(g))
  add(case, "glm_logit_df", c(df = g$df.residual))
  g <- svyglm(api_stu ~ meals + stype, d, family = quasipoisson(), control = ctl)
  add(case, "glm_pois_coef", coef(g)); add(case, "glm_pois_se", SE(g))
  ds <- subset(d, awards == "Yes")
  g <- svyglm(api00 ~ ell + meals, ds, control = ctl)
  add(case, "glm_domain_coef", coef(g)); add(case, "glm_domain_se", SE(g))
  add(case, "glm_domain_df", c(df = g$df.residual))
  add(case, "domain_mean", c(est = coef(svymean(~api00, ds)), se = SE(svymean(~api00, ds)),
                             degf = degf(ds)))
  x <- svychisq(~sch_wide + stype, d)
  add(case, "chisq_F", c(F = unname(x$statistic), ndf = unname(x$parameter[1]),
                         ddf = unname(x$parameter[2]), p = x$p.value))
  tt <- svytable(~sch_wide + stype, d)
  add(case, "table", as.vector(tt), paste(rep(rownames(tt), ncol(tt)),
                                          rep(colnames(tt), each = nrow(tt)), sep = ":"))
  # a weighted Table 1 test of equal means across domains (regTermTest Wald F)
  g <- svyglm(api00 ~ stype, d, control = ctl)
  w <- regTermTest(g, ~stype)
  add(case, "term_test", c(F = unname(w$Ftest), df = w$df, ddf = w$ddf, p = unname(w$p)))
  add(case, "svyvar", c(var = coef(svyvar(~api00, d))))
}

# NHANES: binary outcome with missing values, nest = TRUE, strata with 2 and 3 PSUs
dnh <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE,
                 data = nh)
add("nhanes", "degf", c(degf = degf(dnh)))
for (m in c("logit", "beta", "mean", "asin")) {
  p <- svyciprop(~HI_CHOL, dnh, method = m, na.rm = TRUE)
  add("nhanes", paste0("prop_", m), c(est = coef(p), low = attr(p, "ci")[1],
                                      high = attr(p, "ci")[2], se = SE(p)))
  pb <- svyby(~HI_CHOL, ~race, dnh, svyciprop, method = m, vartype = "ci", na.rm = TRUE)
  add("nhanes", paste0("by_prop_", m, "_est"), coef(pb))
  add("nhanes", paste0("by_prop_", m, "_low"), pb$ci_l, names(coef(pb)))
  add("nhanes", paste0("by_prop_", m, "_high"), pb$ci_u, names(coef(pb)))
}
b <- svyby(~HI_CHOL, ~race, dnh, svymean, na.rm = TRUE, deff = TRUE)
add("nhanes", "by_mean_est", coef(b)); add("nhanes", "by_mean_se", SE(b))
add("nhanes", "by_mean_deff", deff(b), names(coef(b)))
g <- svyglm(HI_CHOL ~ agecat + RIAGENDR, dnh, family = quasibinomial(), control = ctl)
add("nhanes", "glm_logit_coef", coef(g)); add("nhanes", "glm_logit_se", SE(g))
add("nhanes", "glm_logit_df", c(df = g$df.residual))
x <- svychisq(~HI_CHOL + race, dnh)
add("nhanes", "chisq_F", c(F = unname(x$statistic), ndf = unname(x$parameter[1]),
                           ddf = unname(x$parameter[2]), p = x$p.value))

# Lonely PSUs: drop PSU 2 of stratum 83 so that stratum keeps a single PSU
lon <- nh[!(nh$SDMVSTRA == 83 & nh$SDMVPSU == 2), ]
for (rule in c("adjust", "average", "remove", "certainty")) {
  options(survey.lonely.psu = rule)
  dl <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE,
                  data = lon)
  m <- svymean(~HI_CHOL, dl, na.rm = TRUE)
  t <- svytotal(~HI_CHOL, dl, na.rm = TRUE)
  add("lonely", rule, c(mean = coef(m), mean_se = SE(m), total = coef(t), total_se = SE(t)))
  if (rule %in% c("adjust", "average", "remove")) {
    r <- as.svrepdesign(dl, type = "JKn")
    m <- svymean(~HI_CHOL, r, na.rm = TRUE)
    add("lonely", paste0("jkn_", rule), c(mean = coef(m), mean_se = SE(m)))
  }
}
options(survey.lonely.psu = "fail")

con <- file("tests/reference/survey.csv", "w")
writeLines(sprintf("# %s; survey %s; generated by tests/reference/survey.R",
                   R.version.string, packageVersion("survey")), con)
write.csv(do.call(rbind, out), con, row.names = FALSE)
close(con)
