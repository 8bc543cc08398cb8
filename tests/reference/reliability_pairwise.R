# Reference values for reliability(..., use="pairwise"): psych::alpha's default with
# missing item responses (covariances from pairwise-complete rows, use = "pairwise").
# Run from the repository root:  Rscript tests/reference/reliability_pairwise.R
# Reads tests/data/bfi_conscientiousness.csv and tests/data/attitude.csv (the latter
# with a fixed pattern of cells set missing here); writes
# tests/reference/reliability_pairwise.csv.
suppressMessages(library(psych))

bfi <- read.csv("tests/data/bfi_conscientiousness.csv")
att <- read.csv("tests/data/attitude.csv")
# about one cell in seven missing, in a fixed pattern; no row loses every item
for (j in seq_len(ncol(att))) att[((seq_len(nrow(att)) * 3 + j * 5) %% 7) == 0, j] <- NA
datasets <- list(bfi_conscientiousness = bfi, attitude_holes = att)
keys <- list(bfi_conscientiousness = c("C4", "C5"), attitude_holes = NULL)

rows <- list()
add <- function(ds, stat, item, value) {
  rows[[length(rows) + 1]] <<- data.frame(dataset = ds, statistic = stat, item = item,
                                          value = as.numeric(unlist(value))[1],
                                          stringsAsFactors = FALSE)
}
for (ds in names(datasets)) {
  x <- datasets[[ds]]
  stopifnot(all(rowSums(!is.na(x)) > 0))  # psych's n counts every row given
  k <- keys[[ds]]
  # psych::alpha's defaults: use = "pairwise", na.rm = TRUE
  a <- if (is.null(k)) alpha(x, warnings = FALSE) else alpha(x, keys = k, warnings = FALSE)
  tot <- a$total
  add(ds, "n", "", nrow(x))
  add(ds, "n_complete", "", sum(complete.cases(x)))
  add(ds, "raw_alpha", "", tot$raw_alpha)
  add(ds, "std_alpha", "", tot$std.alpha)
  add(ds, "g6_smc", "", tot[["G6(smc)"]])
  add(ds, "average_r", "", tot$average_r)
  add(ds, "ase", "", tot$ase)
  add(ds, "mean", "", tot$mean)
  add(ds, "sd", "", tot$sd)
  add(ds, "feldt_lower", "", a$feldt$lower.ci)
  add(ds, "feldt_upper", "", a$feldt$upper.ci)
  xs <- x
  if (!is.null(k)) {
    adj <- min(x, na.rm = TRUE) + max(x, na.rm = TRUE)
    for (v in k) xs[[v]] <- adj - xs[[v]]
  }
  # omega of raw data uses cor(x, use = "pairwise")
  om <- suppressWarnings(suppressMessages(omega(xs, nfactors = 1, plot = FALSE)))
  add(ds, "omega_total", "", om$omega.tot)
  for (i in seq_len(ncol(x))) {
    it <- colnames(x)[i]
    st <- a$item.stats[i, ]
    dr <- a$alpha.drop[i, ]
    add(ds, "item_n", it, st$n)
    add(ds, "raw_r", it, st$raw.r)
    add(ds, "std_r", it, st$std.r)
    add(ds, "r_cor", it, st$r.cor)
    add(ds, "r_drop", it, st$r.drop)
    add(ds, "item_mean", it, st$mean)
    add(ds, "item_sd", it, st$sd)
    add(ds, "alpha_if_deleted", it, dr$raw_alpha)
    add(ds, "std_alpha_if_deleted", it, dr$std.alpha)
    add(ds, "g6_if_deleted", it, dr[["G6(smc)"]])
    add(ds, "average_r_if_deleted", it, dr$average_r)
    add(ds, "omega_loading", it, om$schmid$sl[i, 1])
  }
}
out <- do.call(rbind, rows)
con <- file("tests/reference/reliability_pairwise.csv", "w")
writeLines(sprintf("# %s; psych %s; GPArotation %s", R.version.string,
                   packageVersion("psych"), packageVersion("GPArotation")), con)
writeLines("# psych::alpha defaults (use = 'pairwise') and psych::omega(nfactors = 1) with missing items: bfi C1-C5 (C4, C5 reverse-keyed), attitude with cells set missing", con)
write.csv(out, con, row.names = FALSE)
close(con)
