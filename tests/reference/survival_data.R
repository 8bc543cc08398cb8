# Export the public data sets used by the survival tests to tests/data/.
# Run from the repository root: Rscript tests/reference/survival_data.R
suppressPackageStartupMessages(library(survival))
out <- "tests/data"
hdr <- sprintf("# Exported from R %s; survival %s", paste(R.version$major, R.version$minor, sep = "."),
               packageVersion("survival"))
wr <- function(df, name, note) {
  path <- file.path(out, name)
  writeLines(c(hdr, paste("#", note)), path)
  suppressWarnings(write.table(df, path, sep = ",", row.names = FALSE, append = TRUE,
                               na = "", quote = TRUE))
}
wr(survival::lung, "surv_lung.csv", "survival::lung (NCCTG advanced lung cancer); status 1 = censored, 2 = dead")
vet <- survival::veteran
vet$celltype <- as.character(vet$celltype)
wr(vet, "surv_veteran.csv", "survival::veteran (VA lung cancer trial); many tied times")
h <- survival::heart
h$transplant <- as.integer(as.character(h$transplant))
wr(h, "surv_heart.csv", "survival::heart (Stanford heart transplant), counting-process form; transplant as 0/1")
g <- survival::cgd
g2 <- data.frame(id = g$id, tstart = g$tstart, tstop = g$tstop, status = g$status,
                 treat = as.integer(g$treat == "rIFN-g"), female = as.integer(g$sex == "female"),
                 age = g$age, autosomal = as.integer(g$inherit == "autosomal"),
                 steroids = g$steroids, propylac = g$propylac, enum = g$enum)
wr(g2, "surv_cgd.csv", "survival::cgd (chronic granulomatous disease), counting-process form; factors recoded 0/1")
co <- survival::colon[survival::colon$etype == 2, c("id", "rx", "sex", "age", "nodes", "time", "status")]
co$rx <- as.character(co$rx)
wr(co, "surv_colon.csv", "survival::colon, death records only (etype == 2)")
# competing-risks example data in the style of the cmprsk::cuminc help page
set.seed(2)
n <- 200
cr <- data.frame(ftime = round(rexp(n), 1), fstatus = sample(0:2, n, replace = TRUE),
                 group = sample(1:3, n, replace = TRUE), strat = sample(1:2, n, replace = TRUE),
                 x1 = round(runif(n), 3), x2 = round(runif(n), 3), x3 = rbinom(n, 1, 0.4))
wr(cr, "surv_cmprsk_sim.csv", "simulated with set.seed(2) as in the cmprsk::cuminc example; times rounded to 0.1 for ties")
