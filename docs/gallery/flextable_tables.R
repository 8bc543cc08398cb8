# Render the gallery's Table 1 and merged regression table with R flextable, for a
# side-by-side look at the Word layout an R user gets (flextable's theme_booktabs and
# Word's autofit layout at page width) next to Table.to_docx. The cells are the CSV files written by tables.py, so
# both documents hold the same text and differ only in layout.
#
#   python docs/gallery/tables.py /tmp/gallery
#   Rscript docs/gallery/flextable_tables.R /tmp/gallery
#
# Written with R 4.2.2, flextable 0.8.4, officer 0.6.0 (Debian r-cran-flextable).
suppressMessages({
  library(flextable)
  library(officer)
})
args <- commandArgs(trailingOnly = TRUE)
folder <- if (length(args)) args[1] else "."

render <- function(name, caption) {
  cells <- read.csv(file.path(folder, paste0(name, ".csv")), check.names = FALSE,
                    colClasses = "character", na.strings = character())
  names(cells)[1] <- "Characteristic"
  ft <- flextable(cells)
  ft <- theme_booktabs(ft)
  ft <- set_table_properties(ft, layout = "autofit", width = 1)  # Word fits it to the page
  landscape <- prop_section(page_size = page_size(orient = "landscape"))
  out <- file.path(folder, paste0(name, "_flextable.docx"))
  doc <- read_docx()
  doc <- body_add_par(doc, caption)
  doc <- body_add_flextable(doc, ft)
  doc <- body_set_default_section(doc, landscape)
  print(doc, target = out)
  cat(out, "\n")
}

render("table1", "Table 1. Participant characteristics")
render("regression", "Table 2. Abstinence at month 12: odds ratios")
