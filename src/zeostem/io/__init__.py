"""Reading and writing: configuration, sample sheets, structures, micrographs (the four-segment detector
included) — with errors that name the file."""
