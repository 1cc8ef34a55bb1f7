"""Reports: HTML and PDF with charts, in Vietnamese or English, rendered without a browser."""
