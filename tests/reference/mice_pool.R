# Reference values for Rubin's-rules pooling and for chained-equations imputation.
#
# Writes
#   tests/data/mice_nhanes.csv              mice::nhanes (25 rows, the data set used here)
#   tests/data/mice_pool_imputations.csv    m = 5 completed copies of nhanes (.imp = 1..5)
#   tests/reference/mice_pool.csv           mice::pool() of lm and glm fits on those copies
#   tests/reference/mice_impute_nhanes.csv  distribution of imputed values over many runs
#
# Run from the repository root: Rscript tests/reference/mice_pool.R
suppressPackageStartupMessages(library(mice))

versions <- sprintf("# R %s.%s; mice %s", R.version$major, R.version$minor,
                    as.character(packageVersion("mice")))

write_with_header <- function(df, path, lines) {
  con <- file(path, "w")
  writeLines(c(versions, lines), con)
  close(con)
  suppressWarnings(write.table(df, path, sep = ",", row.names = FALSE,
                               append = TRUE, col.names = TRUE, qmethod = "double"))
}

data(nhanes, package = "mice")
write.csv(nhanes, "tests/data/mice_nhanes.csv", row.names = FALSE)

# ---- 1. pooling: fixed imputations, fits pooled by mice::pool ----------------------
imp <- mice(nhanes, m = 5, maxit = 10, method = "pmm", seed = 20240917, printFlag = FALSE)
long <- complete(imp, action = "long")
long <- long[, c(".imp", ".id", "age", "bmi", "hyp", "chl")]
write.csv(long, "tests/data/mice_pool_imputations.csv", row.names = FALSE)

frames <- split(long, long$.imp)
pool_rows <- function(fits, model, dfcom = NULL) {
  p <- pool(as.mira(fits), dfcom = dfcom)
  s <- summary(p, conf.int = TRUE, conf.level = 0.95)
  pp <- p$pooled
  data.frame(
    model = model, term = as.character(pp$term), m = pp$m,
    estimate = pp$estimate, ubar = pp$ubar, b = pp$b, t = pp$t,
    dfcom = pp$dfcom, df = pp$df, riv = pp$riv, lambda = pp$lambda, fmi = pp$fmi,
    std_error = s$std.error, statistic = s$statistic, p_value = s$p.value,
    conf_low = s[["2.5 %"]], conf_high = s[["97.5 %"]]
  )
}
lm_fits <- lapply(frames, function(d) lm(chl ~ age + bmi, data = d))
glm_fits <- lapply(frames, function(d) {
  d$hyp01 <- d$hyp - 1
  # tight convergence: the covariance is then evaluated at the maximum (default
  # epsilon = 1e-8 leaves SEs off by ~1e-5 relative)
  glm(hyp01 ~ age + chl, family = binomial, data = d,
      control = glm.control(epsilon = 1e-14, maxit = 100))
})
pooled <- rbind(
  pool_rows(lm_fits, "lm"),
  pool_rows(glm_fits, "glm_binomial"),
  pool_rows(lm_fits, "lm_dfcom_inf", dfcom = Inf)  # large-sample df
)
pooled$term[pooled$term == "(Intercept)"] <- "Intercept"
write_with_header(pooled, "tests/reference/mice_pool.csv",
                  "# mice::pool(as.mira(fits)) on tests/data/mice_pool_imputations.csv")

# ---- 2. imputation procedure: distribution of imputed values ------------------------
# For each method, n_runs runs of mice(m = 5, maxit = 10); per imputation the mean of the
# imputed cells of each incomplete variable. Summaries give the Monte Carlo mean and SD.
n_runs <- 200
miss <- is.na(nhanes)
rows <- list()
for (meth in c("pmm", "norm")) {
  stats <- list(bmi = c(), hyp = c(), chl = c())
  for (r in seq_len(n_runs)) {
    im <- mice(nhanes, m = 5, maxit = 10, method = meth, seed = 1000 + r, printFlag = FALSE)
    for (v in names(stats)) {
      vals <- im$imp[[v]]
      stats[[v]] <- c(stats[[v]], colMeans(as.matrix(vals)))
    }
  }
  for (v in names(stats)) {
    x <- stats[[v]]
    rows[[length(rows) + 1]] <- data.frame(
      method = meth, variable = v, n_missing = sum(miss[, v]), n_imputations = length(x),
      mean_of_means = mean(x), sd_of_means = sd(x)
    )
  }
}
write_with_header(do.call(rbind, rows), "tests/reference/mice_impute_nhanes.csv",
                  sprintf("# %d runs of mice(nhanes, m = 5, maxit = 10) per method (seeds 1001..)", n_runs))
