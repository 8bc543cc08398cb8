# Reference values for mutualaid_outcomes.models.mediation.product.mediate from R lavaan.
#
# Simulates a data set (written to ../data/mediation_sim.csv), fits a parallel model
# (3 mediators) and a serial model (2 mediators) with lavaan::sem, and writes the ML
# point estimates and bootstrap percentile limits to mediation_lavaan.csv.
# Run from this directory:  Rscript mediation_lavaan.R
suppressPackageStartupMessages(library(lavaan))

set.seed(20240501)
n <- 400
c1 <- rnorm(n)
c2 <- rbinom(n, 1, 0.4)
x <- rbinom(n, 1, 0.5) + 0.3 * c1
m1 <- 0.5 * x + 0.2 * c1 + rnorm(n)
m2 <- 0.3 * x + 0.4 * m1 - 0.2 * c2 + rnorm(n)
m3 <- -0.4 * x + 0.1 * c1 + rnorm(n)
y <- 0.1 * x + 0.4 * m1 + 0.3 * m2 - 0.25 * m3 + 0.2 * c1 + 0.1 * c2 + rnorm(n)
dat <- data.frame(x, m1, m2, m3, c1, c2, y)
write.csv(round(dat, 6), "../data/mediation_sim.csv", row.names = FALSE)
dat <- read.csv("../data/mediation_sim.csv")

n_boot <- 4000

parallel <- '
  m1 ~ a1*x + c1 + c2
  m2 ~ a2*x + c1 + c2
  m3 ~ a3*x + c1 + c2
  y ~ cp*x + b1*m1 + b2*m2 + b3*m3 + c1 + c2
  m1 ~~ m2
  m1 ~~ m3
  m2 ~~ m3
  ind1 := a1*b1
  ind2 := a2*b2
  ind3 := a3*b3
  totind := ind1 + ind2 + ind3
  total := cp + totind
  prop := totind / total
  c12 := ind1 - ind2
  c13 := ind1 - ind3
  c23 := ind2 - ind3
'
serial <- '
  m1 ~ a1*x + c1 + c2
  m2 ~ a2*x + d12*m1 + c1 + c2
  y ~ cp*x + b1*m1 + b2*m2 + c1 + c2
  ind1 := a1*b1
  ind2 := a2*b2
  ind12 := a1*d12*b2
  totind := ind1 + ind2 + ind12
  total := cp + totind
'
terms_parallel <- c(a1 = "a[m1]", a2 = "a[m2]", a3 = "a[m3]", b1 = "b[m1]",
                    b2 = "b[m2]", b3 = "b[m3]", cp = "direct", ind1 = "indirect[m1]",
                    ind2 = "indirect[m2]", ind3 = "indirect[m3]",
                    totind = "total_indirect", total = "total", prop = "prop_mediated",
                    c12 = "contrast[m1-m2]", c13 = "contrast[m1-m3]",
                    c23 = "contrast[m2-m3]")
terms_serial <- c(a1 = "a[m1]", a2 = "a[m2]", d12 = "d[m1->m2]", b1 = "b[m1]",
                  b2 = "b[m2]", cp = "direct", ind1 = "indirect[m1]",
                  ind2 = "indirect[m2]", ind12 = "indirect[m1->m2]",
                  totind = "total_indirect", total = "total")

run <- function(syntax, terms, label) {
  fit0 <- sem(syntax, data = dat)
  set.seed(1)
  t0 <- proc.time()[["elapsed"]]
  fit <- sem(syntax, data = dat, se = "bootstrap", bootstrap = n_boot)
  elapsed <- proc.time()[["elapsed"]] - t0
  pe0 <- parameterEstimates(fit0)
  pe <- parameterEstimates(fit, boot.ci.type = "perc", level = 0.95)
  keep <- pe$label %in% names(terms)
  boot_sd <- pe$se[keep]
  data.frame(model = label, term = unname(terms[pe$label[keep]]),
             estimate = pe0$est[match(pe$label[keep], pe0$label)],
             boot_sd = boot_sd, conf_low = pe$ci.lower[keep],
             conf_high = pe$ci.upper[keep], n_boot = n_boot,
             n_boot_ok = lavInspect(fit, "boot") |> nrow(),
             seconds = elapsed)
}
out <- rbind(run(parallel, terms_parallel, "parallel"), run(serial, terms_serial, "serial"))
con <- file("mediation_lavaan.csv", "w")
writeLines(sprintf("# %s; lavaan %s", R.version.string, packageVersion("lavaan")), con)
writeLines("# Data: ../data/mediation_sim.csv (simulated by this script, set.seed(20240501)).", con)
write.csv(out, con, row.names = FALSE)
close(con)
