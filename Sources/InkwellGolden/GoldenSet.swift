// InkwellGolden: being written; this file is replaced.
