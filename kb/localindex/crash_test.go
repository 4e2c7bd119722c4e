package localindex

func crashWriterMain() bool { return false }
