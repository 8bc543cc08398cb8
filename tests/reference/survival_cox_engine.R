# Reference values for the Cox engine on simulated data that exercise every path at once:
# day-level (heavily tied) event times, strata, left truncation, non-integer case weights,
# clusters and a time-varying covariate in (start, stop] counting-process form; plus the
# concordance counts (concordant, discordant, tied.x, tied.y) that coxph reports; and
# times that are equal up to floating-point error (R's default timefix).
# Writes the data (tests/reference/survival_cox_engine_data.csv) and the values
# (tests/reference/survival_cox_engine.csv).
# Run from the repository root:  Rscript tests/reference/survival_cox_engine.R
suppressPackageStartupMessages(library(survival))
set.seed(20261205)
n <- 400
people <- data.frame(
  id = seq_len(n),
  site = sample(1:40, n, replace = TRUE),
  grp = sample(c("a", "b", "c"), n, replace = TRUE),
  w = round(runif(n, 0.5, 2.5), 2),
  x1 = rbinom(n, 1, 0.4),
  age = round(rnorm(n, 40, 8)),
  entry = ifelse(runif(n) < 0.3, sample(1:20, n, replace = TRUE), 0),
  switch = sample(5:80, n, replace = TRUE)
)
# daily discrete-time hazard; the covariate z switches on after day `switch`
days <- 120
rows <- list()
for (i in seq_len(n)) {
  p <- people[i, ]
  cens <- min(days, p$entry + sample(10:150, 1))
  t_end <- cens
  status <- 0L
  for (d in (p$entry + 1):cens) {
    z <- as.integer(d > p$switch)
    h <- 0.012 * exp(0.4 * p$x1 + 0.03 * (p$age - 40) - 0.6 * z)
    if (runif(1) < h) {
      t_end <- d
      status <- 1L
      break
    }
  }
  cuts <- sort(unique(c(p$entry, if (p$switch > p$entry && p$switch < t_end) p$switch, t_end)))
  k <- length(cuts) - 1
  rows[[i]] <- data.frame(
    id = p$id, site = p$site, grp = p$grp, w = p$w, x1 = p$x1, age = p$age,
    tstart = cuts[-length(cuts)], tstop = cuts[-1],
    status = c(rep(0L, k - 1), status),
    z = as.integer(cuts[-length(cuts)] >= p$switch)
  )
}
cp <- do.call(rbind, rows)
# weeks as computed in floating point two ways: equal times that differ in the last
# bits (for every third person), which coxph's default timefix makes tied again
jig <- ifelse(cp$id %% 3 == 0, 1 + 1e-12, 1)
cp$wstart <- cp$tstart / 7 * jig
cp$wstop <- cp$tstop / 7 * jig
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 50)
res <- list()
add <- function(case, quantity, term, value) {
  res[[length(res) + 1]] <<- data.frame(case = case, quantity = quantity, term = term,
                                        value = as.numeric(value))
}
record <- function(case, fit) {
  b <- coef(fit)
  add(case, "coef", names(b), b)
  add(case, "se", names(b), sqrt(diag(fit$var)))
  if (!is.null(fit$naive.var)) add(case, "naive_se", names(b), sqrt(diag(fit$naive.var)))
  add(case, "loglik0", "", fit$loglik[1])
  add(case, "loglik", "", fit$loglik[2])
  add(case, "score", "", fit$score)
  if (!is.null(fit$rscore)) add(case, "robust_score", "", fit$rscore)
  cc <- fit$concordance
  for (q in c("concordant", "discordant", "tied.x", "tied.y", "concordance")) {
    add(case, q, "", cc[[q]])
  }
  z <- cox.zph(fit)
  add(case, "zph_chisq", rownames(z$table), z$table[, "chisq"])
}
# one row per person, right-censored at the end of follow-up (entry ignored)
last <- cp[!duplicated(cp$id, fromLast = TRUE), ]
for (ties in c("efron", "breslow")) {
  record(paste0("cp_", ties),
         coxph(Surv(tstart, tstop, status) ~ x1 + age + z + strata(grp) + cluster(site),
               data = cp, weights = w, ties = ties, control = ctl))
  record(paste0("rc_", ties),
         coxph(Surv(tstop, status) ~ x1 + age + strata(grp) + cluster(site),
               data = last, weights = w, ties = ties, control = ctl))
  record(paste0("rc_plain_", ties),
         coxph(Surv(tstop, status) ~ x1 + age, data = last, ties = ties, control = ctl))
  record(paste0("timefix_rc_", ties),
         coxph(Surv(wstop, status) ~ x1 + age, data = last, ties = ties, control = ctl))
  record(paste0("timefix_cp_", ties),
         coxph(Surv(wstart, wstop, status) ~ x1 + age + z + cluster(id), data = cp,
               ties = ties, control = ctl))
}
out <- do.call(rbind, res)
hdr <- sprintf("# R %s.%s; survival %s", R.version$major, R.version$minor,
               packageVersion("survival"))
path <- "tests/reference/survival_cox_engine.csv"
writeLines(hdr, path)
suppressWarnings(write.table(out, path, sep = ",", row.names = FALSE, append = TRUE))
dpath <- "tests/reference/survival_cox_engine_data.csv"
writeLines(hdr, dpath)
suppressWarnings(write.table(cp, dpath, sep = ",", row.names = FALSE, append = TRUE))
