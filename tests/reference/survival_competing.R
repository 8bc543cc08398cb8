# Reference values for cumulative_incidence, gray_test and fit_fine_gray (cmprsk).
# Run from the repository root: Rscript tests/reference/survival_competing.R
suppressPackageStartupMessages({library(survival); library(cmprsk)})
cr <- read.csv("tests/data/surv_cmprsk_sim.csv", comment.char = "#")
rows <- list()
add <- function(case, kind, group, cause, time, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, kind = kind, group = group,
                                          cause = cause, time = time, value = value)
}
ci_out <- function(case, ci) {
  nm <- setdiff(names(ci), "Tests")
  for (k in nm) {
    z <- ci[[k]]
    parts <- strsplit(k, " ")[[1]]
    # cinc returns the corners of the step function: keep the value after each jump
    n <- length(z$time)
    idx <- c(1, seq(3, n - 1, by = 2))
    add(case, "est", parts[1], parts[2], z$time[idx], z$est[idx])
    add(case, "var", parts[1], parts[2], z$time[idx], z$var[idx])
  }
  if (!is.null(ci$Tests)) {
    add(case, "test_stat", "", rownames(ci$Tests), NA, ci$Tests[, "stat"])
    add(case, "test_p", "", rownames(ci$Tests), NA, ci$Tests[, "pv"])
  }
}
ci_out("by_group", cuminc(cr$ftime, cr$fstatus, cr$group))
ci_out("pooled", cuminc(cr$ftime, cr$fstatus))
ci_out("strata", cuminc(cr$ftime, cr$fstatus, cr$group, strata = cr$strat))
ci_out("rho1", cuminc(cr$ftime, cr$fstatus, cr$group, rho = 1))
x <- as.matrix(cr[, c("x1", "x2", "x3")])
for (fc in 1:2) {
  fit <- crr(cr$ftime, cr$fstatus, x, failcode = fc, cencode = 0, gtol = 1e-12, maxiter = 50)
  add(paste0("crr_cause", fc), "coef", "", colnames(x), NA, fit$coef)
  add(paste0("crr_cause", fc), "se", "", colnames(x), NA, sqrt(diag(fit$var)))
  add(paste0("crr_cause", fc), "loglik", "", "", NA, fit$loglik)
  add(paste0("crr_cause", fc), "loglik_null", "", "", NA, fit$loglik.null)
}
res <- do.call(rbind, rows)
path <- "tests/reference/survival_competing.csv"
writeLines(sprintf("# R %s.%s; cmprsk %s; survival %s", R.version$major, R.version$minor,
                   packageVersion("cmprsk"), packageVersion("survival")), path)
suppressWarnings(write.table(res, path, sep = ",", row.names = FALSE, append = TRUE, na = ""))
