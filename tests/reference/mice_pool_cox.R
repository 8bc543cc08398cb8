# Reference values for pool() of Cox fits: mice::pool's complete-data df for coxph.
#
# mice 3.15 (get.dfcom): with no dfcom given, pool() uses glance()$df.residual when the
# model has one (lm, glm), otherwise, for a coxph fit, max(nevent - length(coef), 1).
#
# Writes
#   tests/data/mice_pool_lung_imputations.csv  m = 5 completed copies of survival::lung
#   tests/reference/mice_pool_cox.csv          mice::pool() of coxph fits on those copies
#
# Run from the repository root: Rscript tests/reference/mice_pool_cox.R
suppressPackageStartupMessages({
  library(mice); library(survival)
})
versions <- sprintf("# R %s.%s; mice %s; survival %s", R.version$major, R.version$minor,
                    as.character(packageVersion("mice")),
                    as.character(packageVersion("survival")))

lung <- read.csv("tests/data/surv_lung.csv", comment.char = "#")
lung <- data.frame(time = lung$time, dead = as.integer(lung$status == 2), age = lung$age,
                   sex = lung$sex, ecog = lung$ph.ecog, wtloss = lung$wt.loss)
imp <- mice(lung, m = 5, maxit = 10, method = "pmm", seed = 20251205, printFlag = FALSE)
long <- complete(imp, action = "long")
long <- long[, c(".imp", ".id", "time", "dead", "age", "sex", "ecog", "wtloss")]
write.csv(long, "tests/data/mice_pool_lung_imputations.csv", row.names = FALSE)

ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 50)
fits <- lapply(split(long, long$.imp), function(d) {
  coxph(Surv(time, dead) ~ age + sex + ecog + wtloss, data = d, ties = "efron",
        control = ctl)
})
pool_rows <- function(fits, model, dfcom = NULL) {
  p <- pool(as.mira(fits), dfcom = dfcom)
  s <- summary(p, conf.int = TRUE, conf.level = 0.95)
  pp <- p$pooled
  data.frame(
    model = model, term = as.character(pp$term), m = pp$m, nevent = fits[[1]]$nevent,
    estimate = pp$estimate, ubar = pp$ubar, b = pp$b, t = pp$t,
    dfcom = pp$dfcom, df = pp$df, riv = pp$riv, lambda = pp$lambda, fmi = pp$fmi,
    std_error = s$std.error, statistic = s$statistic, p_value = s$p.value,
    conf_low = s[["2.5 %"]], conf_high = s[["97.5 %"]]
  )
}
pooled <- rbind(
  pool_rows(fits, "coxph"),                       # mice's default: nevent - k
  pool_rows(fits, "coxph_dfcom_inf", dfcom = Inf)  # large-sample df
)
con <- file("tests/reference/mice_pool_cox.csv", "w")
writeLines(c(versions, "# mice::pool(as.mira(coxph fits)) on tests/data/mice_pool_lung_imputations.csv"), con)
close(con)
suppressWarnings(write.table(pooled, "tests/reference/mice_pool_cox.csv", sep = ",",
                             row.names = FALSE, append = TRUE, col.names = TRUE,
                             qmethod = "double"))
