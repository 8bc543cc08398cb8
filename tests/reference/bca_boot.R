# BCa reference for mutualaid_outcomes.models._core.bootstrap.bca_interval and mediate():
# R boot::boot of the JOBS II linear mediation effects (ACME, ADE, total, proportion),
# jackknife acceleration from boot's own leave-one-out values L = empinf(type = "jack"),
# and boot.ci(type = c("bca", "perc")) limits.
#
# boot's jackknife influence values are L_i = (n - 1) (t0 - t_(-i)), centred at the full-data
# estimate t0, and bca.ci() uses a = sum(L^3) / (6 sum(L^2)^1.5) with them
# ("acceleration_boot"). Efron (1987) and Efron & Tibshirani (1993, eq. 14.15) centre the
# leave-one-out values at their mean instead; with Lc = L - mean(L) that is
# "acceleration" = sum(Lc^3) / (6 sum(Lc^2)^1.5), which mutualaid_outcomes uses. The BCa
# limits below are boot.ci's with L = Lc, i.e. the textbook acceleration.
# Without L, boot.ci estimates the influence values by regression on the bootstrap draws
# (empinf's default type "reg"), which gives a different acceleration
# ("acceleration_boot_default"): the agreement needs L = the jackknife values.
# Run from this directory:  Rscript bca_boot.R
suppressPackageStartupMessages(library(boot))

jobs <- read.csv("../data/jobs.csv")
X_med <- cbind(1, jobs$treat, jobs$econ_hard, jobs$sex, jobs$age)
X_out <- cbind(1, jobs$treat, jobs$job_seek, jobs$econ_hard, jobs$sex, jobs$age)
effects <- function(d, i) {
  a <- lm.fit(X_med[i, , drop = FALSE], jobs$job_seek[i])$coefficients[2]
  co <- lm.fit(X_out[i, , drop = FALSE], jobs$depress2[i])$coefficients
  acme <- a * co[3]
  ade <- co[2]
  c(acme, ade, acme + ade, acme / (acme + ade))
}
n_boot <- 20000
set.seed(2024)
b <- boot(jobs, effects, R = n_boot)
names_out <- c("acme", "ade", "total", "prop_mediated")
rows <- lapply(seq_along(names_out), function(k) {
  L <- empinf(b, index = k, type = "jack")
  acc_boot <- sum(L^3) / (6 * sum(L^2)^1.5)
  Lc <- L - mean(L)
  acc <- sum(Lc^3) / (6 * sum(Lc^2)^1.5)
  ci <- boot.ci(b, conf = 0.95, type = c("bca", "perc"), index = k, L = Lc)
  Lr <- empinf(b, index = k)  # what boot.ci uses when L is not given
  acc_default <- sum(Lr^3) / (6 * sum(Lr^2)^1.5)
  z0 <- qnorm(sum(b$t[, k] < b$t0[k]) / n_boot)
  data.frame(effect = names_out[k], estimate = b$t0[k], boot_sd = sd(b$t[, k]),
             acceleration = acc, acceleration_boot = acc_boot,
             acceleration_boot_default = acc_default, z0 = z0,
             bca_low = ci$bca[4], bca_high = ci$bca[5],
             perc_low = ci$percent[4], perc_high = ci$percent[5], n_boot = n_boot)
})
out <- do.call(rbind, rows)
con <- file("bca_boot.csv", "w")
writeLines(sprintf("# %s; boot %s", R.version.string, packageVersion("boot")), con)
writeLines("# Data: ../data/jobs.csv (R mediation::jobs); the JOBS II models of causal_mediation_jobs.R (case \"domain\").", con)
write.csv(out, con, row.names = FALSE)
close(con)
