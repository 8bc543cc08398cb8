# Reference values for fit_iv and cace (mutualaid_outcomes.models.causal.iv).
# Run from the repository root:  Rscript tests/reference/iv_aer.R
# Exports tests/data/iv_cigarettes.csv (AER::CigarettesSW with derived columns) and
# tests/data/iv_encouragement.csv (a simulated encouragement trial), then writes
# tests/reference/iv_aer.csv (long: model, quantity, term, value).
suppressPackageStartupMessages({
  library(AER); library(sandwich); library(lmtest)
})
dd <- "tests/data"

# Public data: AER::CigarettesSW (Stock & Watson), the textbook 2SLS example.
data("CigarettesSW", package = "AER")
cig <- CigarettesSW
cig <- data.frame(
  state = as.character(cig$state), year = as.integer(as.character(cig$year)),
  lpacks = log(cig$packs), lrprice = log(cig$price / cig$cpi),
  lrincome = log(cig$income / cig$population / cig$cpi),
  tdiff = (cig$taxs - cig$tax) / cig$cpi, rtax = cig$tax / cig$cpi)
write.csv(cig, file.path(dd, "iv_cigarettes.csv"), row.names = FALSE)

# Simulated encouragement trial resembling the sample cohort: arm randomised,
# TSF raises attendance; unobserved 'u' drives both attendance and the outcome.
set.seed(20240917)
n <- 900
sim <- data.frame(id = seq_len(n), site = sample(1:9, n, replace = TRUE),
                  arm = sample(rep(c("CBT", "MET", "TSF"), n / 3)),
                  age = round(rnorm(n, 40, 11)), female = rbinom(n, 1, 0.25),
                  pda0 = round(rbeta(n, 2, 3), 4))
u <- rnorm(n)
sim$tsf <- as.integer(sim$arm == "TSF")
sim$meetings <- rpois(n, exp(2.4 + 0.45 * sim$tsf + 0.35 * u + 0.01 * (sim$age - 40)))
sim$attended <- as.integer(sim$meetings >= 15)
sim$pda15 <- round(pmin(1, pmax(0, 0.45 + 0.004 * sim$meetings + 0.3 * sim$pda0 +
                                   0.06 * u + rnorm(n, 0, 0.15))), 6)
sim$noise_inst <- round(rnorm(n), 6)
write.csv(sim, file.path(dd, "iv_encouragement.csv"), row.names = FALSE)
cig <- read.csv(file.path(dd, "iv_cigarettes.csv"))
sim <- read.csv(file.path(dd, "iv_encouragement.csv"))

out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
se <- function(v) sqrt(diag(v))
add_iv <- function(model, fit, cluster = NULL) {
  add(model, "coef", coef(fit))
  add(model, "se_nonrobust", se(vcov(fit)))
  add(model, "se_HC0", se(vcovHC(fit, type = "HC0")))
  add(model, "se_HC1", se(vcovHC(fit, type = "HC1")))
  if (!is.null(cluster)) {
    add(model, "se_cluster_HC0", se(vcovCL(fit, cluster = cluster, type = "HC0")))
    add(model, "se_cluster_HC1", se(vcovCL(fit, cluster = cluster, type = "HC1")))
    # vcovCL's own default type for an ivreg fit (HC0: its HC1 default is for lm only);
    # fit_iv(cluster=) follows it
    add(model, "se_cluster_default", se(vcovCL(fit, cluster = cluster)))
  }
  s <- summary(fit, diagnostics = TRUE)
  add(model, "diagnostic", c(weak_f = s$diagnostics["Weak instruments", "statistic"],
                              sargan = s$diagnostics["Sargan", "statistic"],
                              sigma = s$sigma))
}
# First-stage F of the excluded instruments (classical, HC0, HC1, cluster HC0/HC1)
add_fs <- function(model, full, restricted, data, cluster = NULL) {
  u <- lm(full, data = data); r <- lm(restricted, data = data)
  rss_u <- sum(resid(u)^2); rss_r <- sum(resid(r)^2)
  vals <- c(f_classical = waldtest(r, u, test = "F")$F[2],
            f_HC0 = waldtest(r, u, vcov = vcovHC(u, type = "HC0"), test = "F")$F[2],
            f_HC1 = waldtest(r, u, vcov = vcovHC(u, type = "HC1"), test = "F")$F[2],
            partial_r2 = (rss_r - rss_u) / rss_r)
  if (!is.null(cluster)) {
    vals <- c(vals,
      f_cluster_HC0 = waldtest(r, u, vcov = vcovCL(u, cluster = cluster, type = "HC0"),
                               test = "F")$F[2],
      f_cluster_HC1 = waldtest(r, u, vcov = vcovCL(u, cluster = cluster, type = "HC1"),
                               test = "F")$F[2])
  }
  add(model, "first_stage", vals)
}

# 1. Cigarettes 1995, over-identified (two instruments)
c95 <- subset(cig, year == 1995)
m1 <- ivreg(lpacks ~ lrprice + lrincome | lrincome + tdiff + rtax, data = c95)
add_iv("cig95", m1)
add_fs("cig95", lrprice ~ lrincome + tdiff + rtax, lrprice ~ lrincome, c95)
# 2. Cigarettes 1985 + 1995, year indicator, cluster by state, just identified
cig$y1995 <- as.integer(cig$year == 1995)
m2 <- ivreg(lpacks ~ lrprice + lrincome + y1995 | lrincome + y1995 + tdiff, data = cig)
add_iv("cig_panel", m2, ~state)
add_fs("cig_panel", lrprice ~ lrincome + y1995 + tdiff, lrprice ~ lrincome + y1995, cig,
       cig$state)
# 3. Encouragement trial: meetings instrumented by TSF assignment, with covariates
m3 <- ivreg(pda15 ~ meetings + age + female + pda0 | tsf + age + female + pda0, data = sim)
add_iv("trial", m3, ~site)
add_fs("trial", meetings ~ tsf + age + female + pda0, meetings ~ age + female + pda0, sim,
       sim$site)
# 4. Encouragement trial: arm (three levels) as instrument -> two indicators
m4 <- ivreg(pda15 ~ meetings | arm, data = sim)
add_iv("trial_arm", m4)
add_fs("trial_arm", meetings ~ arm, meetings ~ 1, sim)
# 5. Binary exposure, binary instrument, no covariates: CACE = Wald estimator
m5 <- ivreg(pda15 ~ attended | tsf, data = sim)
add_iv("trial_cace", m5)
itt <- coef(lm(pda15 ~ tsf, data = sim))["tsf"]
fs <- coef(lm(attended ~ tsf, data = sim))["tsf"]
add("trial_cace", "wald", c(itt = itt, first_stage = fs, cace = itt / fs),
    c("itt", "first_stage", "cace"))
# 6. Irrelevant instrument (pure noise): classical first-stage F
m6 <- ivreg(pda15 ~ meetings | noise_inst, data = sim)
add_iv("trial_noise", m6)
add_fs("trial_noise", meetings ~ noise_inst, meetings ~ 1, sim)

res <- do.call(rbind, out)
path <- "tests/reference/iv_aer.csv"
con <- file(path, "w")
writeLines(sprintf("# R %s; AER %s; sandwich %s; lmtest %s",
                   paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("AER"), packageVersion("sandwich"),
                   packageVersion("lmtest")), con)
write.csv(res, con, row.names = FALSE)
close(con)
