# Reference values for fit_gee (mutualaid_outcomes.models.regression.gee).
# Run from the repository root:  Rscript tests/reference/gee.R
# geepack is run to full convergence (epsilon = 1e-12; its default 1e-4 stops early), so
# the comparison is of the estimating equations' solution, not of a stopping rule.
suppressPackageStartupMessages(library(geepack))
dd <- "tests/data"
data(ohio, package = "geepack")
write.csv(ohio, file.path(dd, "gee_ohio.csv"), row.names = FALSE)
data(respiratory, package = "geepack")
write.csv(respiratory, file.path(dd, "gee_respiratory.csv"), row.names = FALSE)

ohio <- read.csv(file.path(dd, "gee_ohio.csv"))
ohio$wave <- ohio$age + 3
resp <- read.csv(file.path(dd, "gee_respiratory.csv"), stringsAsFactors = TRUE)
resp$pid <- resp$center * 1000 + resp$id
resp <- resp[order(resp$pid, resp$visit), ]
drop <- read.csv(file.path(dd, "regression_gee_dropout.csv"))
drop$wave <- drop$month / 3 + 1   # visit index 1..5 with gaps (drop-out, missed visits)

ctl <- geese.control(epsilon = 1e-12, maxit = 500)
out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
run <- function(model, formula, data, family, corstr, waves = NULL) {
  data$.w <- if (is.null(waves)) NULL else data[[waves]]
  fit <- if (is.null(waves)) {
    geeglm(formula, id = id, data = data, family = family, corstr = corstr, control = ctl)
  } else {
    geeglm(formula, id = id, waves = .w, data = data, family = family, corstr = corstr,
           control = ctl)
  }
  g <- fit$geese
  add(model, "coef", coef(fit))
  add(model, "se_robust", sqrt(diag(g$vbeta)), names(coef(fit)))
  add(model, "se_naive", sqrt(diag(g$vbeta.naiv)), names(coef(fit)))
  if (length(g$alpha)) add(model, "alpha", g$alpha)
  q <- QIC(fit)
  add(model, "glance", c(scale = unname(g$gamma), qic = unname(q["QIC"]),
                          qicu = unname(q["QICu"]), quasi = unname(q["Quasi Lik"]),
                          n = nrow(data), n_clusters = length(unique(data$id)),
                          error = g$error))
}
for (cs in c("independence", "exchangeable", "ar1", "unstructured")) {
  run(paste0("ohio_", cs), resp ~ age + smoke, ohio, binomial, cs, "wave")
}
resp$id <- resp$pid
for (cs in c("exchangeable", "ar1")) {
  run(paste0("resp_", cs), outcome ~ treat + sex + age + baseline, resp, binomial, cs, "visit")
}
for (cs in c("independence", "exchangeable", "ar1")) {
  run(paste0("drop_gauss_", cs), y ~ arm + x + month, drop, gaussian, cs, "wave")
  run(paste0("drop_bin_", cs), yb ~ arm + x + month, drop, binomial, cs, "wave")
  run(paste0("drop_pois_", cs), yc ~ arm + x + month, drop, poisson, cs, "wave")
}
# Sample cohort (copied from src/mutualaid_outcomes/datasets/sample at the time of writing): PDA over waves, with
# drop-out; rows with missing PDA removed before fitting (as our listwise deletion does).
samp <- read.csv(file.path(dd, "regression_sample_pda.csv"), stringsAsFactors = TRUE)
samp <- samp[!is.na(samp$pda), ]
samp$arm <- relevel(samp$arm, ref = "MET")
samp$wave <- samp$month / 3 + 1
for (cs in c("exchangeable", "ar1")) {
  run(paste0("sample_pda_", cs), pda ~ arm + month, samp, gaussian, cs, "wave")
}
res <- do.call(rbind, out)
con <- file("tests/reference/gee.csv", "w")
writeLines(sprintf("# R %s; geepack %s", paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("geepack")), con)
write.csv(res, con, row.names = FALSE)
close(con)
