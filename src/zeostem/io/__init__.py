"""Reading and writing: configuration, sample sheets, structures — with errors that name the file."""
