# Reference values for kaplan_meier: survfit tables, medians, summary at times, survdiff.
# Run from the repository root: Rscript tests/reference/survival_km.R
suppressPackageStartupMessages(library(survival))
rd <- function(f) read.csv(f, comment.char = "#")
lung <- rd("tests/data/surv_lung.csv")
lung$dead <- as.integer(lung$status == 2)
colon <- rd("tests/data/surv_colon.csv")
vet <- rd("tests/data/surv_veteran.csv")
rows <- list()
add <- function(df) rows[[length(rows) + 1]] <<- df
curve <- function(case, fit) {
  s <- summary(fit, censored = TRUE)
  grp <- if (is.null(s$strata)) rep("all", length(s$time)) else sub(".*=", "", as.character(s$strata))
  add(data.frame(case = case, kind = "table", group = grp, time = s$time, n_risk = s$n.risk,
                 n_event = s$n.event, n_censor = s$n.censor, survival = s$surv,
                 std_error = s$std.err, conf_low = s$lower, conf_high = s$upper))
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  qs <- if (is.matrix(q$quantile)) q else lapply(q, function(v) matrix(v, nrow = 1))
  gn <- if (is.matrix(q$quantile)) sub(".*=", "", rownames(q$quantile)) else "all"
  for (j in 1:3) {
    add(data.frame(case = case, kind = paste0("quantile", c(25, 50, 75)[j]), group = gn,
                   time = qs$quantile[, j], n_risk = NA, n_event = NA, n_censor = NA,
                   survival = NA, std_error = NA, conf_low = qs$lower[, j],
                   conf_high = qs$upper[, j]))
  }
}
for (ct in c("log", "log-log", "plain")) {
  curve(paste0("lung_sex_", ct), survfit(Surv(time, dead) ~ sex, data = lung, conf.type = ct))
  curve(paste0("vet_", ct), survfit(Surv(time, status) ~ 1, data = vet, conf.type = ct))
}
curve("lung_sex_log_90", survfit(Surv(time, dead) ~ sex, data = lung, conf.int = 0.9))
curve("colon_rx_log", survfit(Surv(time, status) ~ rx, data = colon))
# numbers at risk and survival at chosen times
fit <- survfit(Surv(time, dead) ~ sex, data = lung)
tm <- c(0, 100, 200, 365, 500, 730)
s <- summary(fit, times = tm)
add(data.frame(case = "lung_sex_times", kind = "times", group = sub(".*=", "", as.character(s$strata)),
               time = s$time, n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor,
               survival = s$surv, std_error = s$std.err, conf_low = s$lower, conf_high = s$upper))
# log-rank tests and the variance matrix for the trend test
lr <- function(case, sd, scores) {
  tr <- drop(scores %*% (sd$obs - sd$exp))^2 / drop(scores %*% sd$var %*% scores)
  add(data.frame(case = case, kind = c("chisq", "df", "trend"), group = "", time = NA,
                 n_risk = NA, n_event = NA, n_censor = NA,
                 survival = c(sd$chisq, length(sd$n) - 1, tr), std_error = NA,
                 conf_low = NA, conf_high = NA))
  add(data.frame(case = case, kind = "expected", group = sub(".*=", "", names(sd$n)), time = NA,
                 n_risk = as.numeric(sd$n), n_event = sd$obs, n_censor = NA, survival = sd$exp,
                 std_error = NA, conf_low = NA, conf_high = NA))
}
lr("lung_sex_logrank", survdiff(Surv(time, dead) ~ sex, data = lung), 1:2)
lr("colon_rx_logrank", survdiff(Surv(time, status) ~ rx, data = colon), 1:3)
lung2 <- lung[!is.na(lung$ph.ecog), ]
lr("lung_ecog_logrank", survdiff(Surv(time, dead) ~ ph.ecog, data = lung2), 1:4)
res <- do.call(rbind, rows)
path <- "tests/reference/survival_km.csv"
writeLines(sprintf("# R %s.%s; survival %s", R.version$major, R.version$minor,
                   packageVersion("survival")), path)
suppressWarnings(write.table(res, path, sep = ",", row.names = FALSE, append = TRUE, na = ""))
