// InkwellReport: module sources are being written; this file is replaced.
