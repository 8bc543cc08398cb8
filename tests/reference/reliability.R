# Reference values for mutualaid_outcomes.instruments.reliability.
# Run from the repository root:  Rscript tests/reference/reliability.R
# Writes tests/data/{attitude,usjudge,bfi_conscientiousness}.csv (inputs) and
# tests/reference/reliability.csv (psych::alpha and psych::omega output).
suppressMessages(library(psych))

datasets <- list(
  attitude = datasets::attitude,
  usjudge = datasets::USJudgeRatings,
  bfi_conscientiousness = psych::bfi[, c("C1", "C2", "C3", "C4", "C5")]
)
keys <- list(attitude = NULL, usjudge = NULL, bfi_conscientiousness = c("C4", "C5"))

write.csv(datasets$attitude, "tests/data/attitude.csv", row.names = FALSE)
write.csv(datasets$usjudge, "tests/data/usjudge.csv", row.names = FALSE)
write.csv(datasets$bfi_conscientiousness, "tests/data/bfi_conscientiousness.csv",
          row.names = FALSE, na = "")

rows <- list()
add <- function(ds, stat, item, value) {
  rows[[length(rows) + 1]] <<- data.frame(dataset = ds, statistic = stat, item = item,
                                          value = as.numeric(unlist(value))[1], stringsAsFactors = FALSE)
}
for (ds in names(datasets)) {
  x <- na.omit(datasets[[ds]])  # listwise deletion, as reliability() does
  k <- keys[[ds]]
  a <- if (is.null(k)) alpha(x, warnings = FALSE) else alpha(x, keys = k, warnings = FALSE)
  tot <- a$total
  n <- nrow(x)
  add(ds, "n", "", n)
  add(ds, "raw_alpha", "", tot$raw_alpha)
  add(ds, "std_alpha", "", tot$std.alpha)
  add(ds, "g6_smc", "", tot[["G6(smc)"]])
  add(ds, "average_r", "", tot$average_r)
  add(ds, "ase", "", tot$ase)
  add(ds, "mean", "", tot$mean)
  add(ds, "sd", "", tot$sd)
  add(ds, "feldt_lower", "", a$feldt$lower.ci)
  add(ds, "feldt_upper", "", a$feldt$upper.ci)
  # psych prints Duhachek limits as alpha -/+ 1.96 ase; use the exact normal quantile
  add(ds, "duhachek_lower", "", tot$raw_alpha - qnorm(0.975) * tot$ase)
  add(ds, "duhachek_upper", "", tot$raw_alpha + qnorm(0.975) * tot$ase)
  xs <- x
  if (!is.null(k)) {
    adj <- min(x) + max(x)
    for (v in k) xs[[v]] <- adj - xs[[v]]
  }
  om <- suppressWarnings(suppressMessages(omega(xs, nfactors = 1, plot = FALSE)))
  add(ds, "omega_total", "", om$omega.tot)
  for (i in seq_len(ncol(x))) {
    it <- colnames(x)[i]
    st <- a$item.stats[i, ]
    dr <- a$alpha.drop[i, ]
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
con <- file("tests/reference/reliability.csv", "w")
writeLines(sprintf("# %s; psych %s; GPArotation %s", R.version.string,
                   packageVersion("psych"), packageVersion("GPArotation")), con)
writeLines("# psych::alpha (listwise-complete data) and psych::omega(nfactors = 1) on attitude, USJudgeRatings, bfi C1-C5 (C4, C5 reverse-keyed)", con)
write.csv(out, con, row.names = FALSE)
close(con)
