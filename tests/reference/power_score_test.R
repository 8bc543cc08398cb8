# Reference for mutualaid_outcomes.models.power.score_test_statistic:
# the Cox partial-likelihood score test at beta = 0 (R survival coxph, Breslow ties,
# no tied event times), for a binary exposure and for a switch-on time-varying exposure
# in counting-process form. Writes the simulated data sets and the statistics.
# Run from the repository root:  Rscript tests/reference/power_score_test.R
library(survival)
set.seed(20261127)
out_dir <- "tests/reference"

simulate <- function(n, kind) {
  e0 <- rexp(n, 0.8)
  e1 <- rexp(n, 0.8 * 0.6)
  if (kind == "binary") {
    exposed <- runif(n) < 0.4
    start <- ifelse(exposed, 0, Inf)
    t_event <- ifelse(exposed, e1, e0)
  } else {
    start <- rexp(n, 1.2)
    t_event <- ifelse(e0 < start, e0, start + e1)
  }
  censor <- pmin(1.5, rexp(n, 0.3))
  data.frame(kind = kind, id = seq_len(n), time = pmin(t_event, censor),
             event = as.integer(t_event <= censor), start = start)
}

score_test <- function(d) {
  ever <- d$start < d$time
  # counting-process rows: unexposed (0, min(start, time)], exposed (start, time]
  pre <- data.frame(id = d$id, tstart = 0, tstop = ifelse(ever, d$start, d$time),
                    status = ifelse(ever, 0L, d$event), z = 0)
  pre <- pre[pre$tstop > 0, ]
  post <- data.frame(id = d$id[ever], tstart = d$start[ever], tstop = d$time[ever],
                     status = d$event[ever], z = 1)
  cp <- rbind(pre, post)
  fit <- coxph(Surv(tstart, tstop, status) ~ z, data = cp, ties = "breslow")
  c(score = unname(fit$score), coef = unname(coef(fit)))
}

data_list <- list(simulate(300, "binary"), simulate(300, "time_varying"),
                  simulate(60, "binary"), simulate(60, "time_varying"))
for (i in seq_along(data_list)) data_list[[i]]$dataset <- i
all_data <- do.call(rbind, data_list)
res <- do.call(rbind, lapply(data_list, function(d) {
  s <- score_test(d)
  data.frame(dataset = d$dataset[1], kind = d$kind[1], n = nrow(d), events = sum(d$event),
             score_chisq = s[["score"]], coef = s[["coef"]])
}))

header <- sprintf("# R %s; survival %s", paste(R.version$major, R.version$minor, sep = "."),
                  packageVersion("survival"))
write_csv <- function(df, path) {
  writeLines(header, path)
  suppressWarnings(write.table(df, path, sep = ",", row.names = FALSE, append = TRUE,
                               col.names = TRUE, quote = FALSE, na = ""))
}
all_data$start[is.infinite(all_data$start)] <- NA  # never exposed
full <- function(df) {
  for (col in names(df)) {
    if (is.double(df[[col]])) df[[col]] <- ifelse(is.na(df[[col]]), NA, sprintf("%.17g", df[[col]]))
  }
  df
}
write_csv(full(all_data), file.path(out_dir, "power_score_test_data.csv"))
write_csv(full(res), file.path(out_dir, "power_score_test.csv"))
