// The library product that users' code and plugins depend on: one import brings every module.
@_exported import InkwellFiles
@_exported import InkwellEngine
@_exported import InkwellNN
@_exported import InkwellVideo
@_exported import InkwellDataset
@_exported import InkwellTraining
@_exported import InkwellReport
@_exported import InkwellPipeline
@_exported import InkwellStages
@_exported import InkwellGolden
@_exported import InkwellDistributed
