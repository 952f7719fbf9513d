// The library product that users' code and plugins depend on: one import brings every module.
@_exported import InkwellEngine
@_exported import InkwellNN
@_exported import InkwellGolden
