// Package checkpoint saves and loads what a training run needs to be
// evaluated, applied or resumed: the model, the optimizer and its state,
// the task and class names, a table's preprocessing, the feature transform
// and where a Fit stands.
// The ptrain command writes and reads its checkpoints with this package,
// so a checkpoint saved from Go code is one that `ptrain eval`, `predict`
// and `train -resume` accept, and a checkpoint the command wrote loads
// here with its optimizer state and progress.
//
// # The file
//
// A checkpoint is one safetensors file (package model/safetensors). Its
// tensors are the model's, named by its layout (dense.0.weight,
// conv.0.weight, bn.0.running_var, …, in PyTorch's layouts, so that any
// safetensors reader sees a plain model), the optimizer's state buffers in
// the parameter layout as optim.<buffer> (momentum_buffer, exp_avg,
// exp_avg_sq, square_avg), and the feature transform as data.scale and
// data.shift (F64). Its __metadata__ holds
//
//	ptrain.arch       the spec (model.MetaArch), the one key a file must have
//	ptrain.optimizer  the optimizer's settings, optim.Config as JSON
//	ptrain.progress   Progress as JSON, with the optimizer's step count
//	ptrain.task       classification or regression
//	ptrain.classes    the class names in output order, JSON
//	ptrain.targets    a regression model's output count
//	ptrain.preprocess a table's preprocessing, data.Preprocess as JSON:
//	                  each input column kept or dropped, its imputation
//	                  value and categories, and the target's scaling
//	ptrain.split      the held-out test split, data.SplitInfo as JSON: the
//	                  data's fingerprint and row count, the share and seed
//	ptrain.batch      the training batch size
//	ptrain.input_range  the training inputs' range after the transform
//
// and, in Checkpoint.Meta, anything else the program keeps there (the
// command keeps its flags as ptrain.config and every epoch's figures as
// ptrain.history). Everything but ptrain.arch and the model's tensors is
// optional: a file written by model.Model.SaveFile is a checkpoint of
// weights alone.
//
// # Checked both ways
//
// DecodeHeader reads what a file says without its tensors' values, as
// image.DecodeConfig reads an image's size: the architecture, the
// element type of the weights (DType, by which a program chooses the T
// it decodes with), the optimizer's settings, the task, classes and
// progress, each checked, and each tensor's name, shape and dtype checked
// against them; with safetensors.ReadHeader it reads no tensor data at
// all. Load and Decode make the same checks, then check every value in
// one pass, before they build anything: each tensor's shape and dtype
// (the weights all F32 or all F64, num_batches_tracked an I64 count ≥ 0),
// finite weights and running statistics (variances ≥ 0), the class count against
// the outputs, the transform's width and the preprocessing's (which
// Preprocess.Validate checks) against the inputs, the optimizer's
// settings and its state (the buffers its method keeps, one value per
// parameter, finite, second moments ≥ 0) and the progress. Save and Write
// run the same checks on what they are about to write, so they never
// write a file Load would refuse. Every error names the tensor or the
// metadata key at fault; Load's also name the file.
//
// Save writes through safetensors.WriteFileAtomic: a crash mid-write
// leaves the previous checkpoint as it was. Load reads with
// safetensors.ReadFile, which refuses a file larger than its header says
// before reading it.
package checkpoint
