// Package data loads datasets (IDX files such as MNIST and Fashion-MNIST,
// CSV tables, folders of image files laid out as torchvision's ImageFolder,
// an embedded copy of the UCI 8x8 digits, synthetic sets), preprocesses
// them, splits them, and fills caller-owned batch buffers, augmented
// (random crops and flips, Augment) or not.
//
// A Dataset keeps its features as read — uint8 for images (MNIST's 60,000
// training images cost 47 MB), float64 for tables — with a per-feature
// affine transform x = raw·Scale[j] + Shift[j] applied as each batch is
// filled. Scaling to [0, 1] and standardisation are such transforms, fitted
// on the training split and copied to the others, so no preprocessing ever
// copies the data.
//
// Every reader error names the file and where in it (byte offset, or line
// and column) and what was expected; a hostile header cannot make a reader
// allocate more than the data that actually arrives.
//
// # Buffers
//
// A Dataset owns its feature, label and target slices. FitTransform reads
// them; Transform.Apply only sets Scale and Shift, which the datasets it is
// applied to then share. Split copies nothing: it reorders the dataset's
// rows in place and returns two views of its storage, after which only the
// views should be used. Subset copies the chosen rows.
//
// Batches go into buffers the caller owns: FillRow and FillTarget write
// one sample's row, and a Batcher's Next fills a whole batch, x as
// (batch, Features) and y as (batch, outputs), row-major. A Batcher
// allocates nothing after NewBatcher; the slice NextIndices returns is its
// own and valid until the next Epoch. The element type T of the buffers
// is num.Float from model/num, which is why this package imports it (and
// num.As32, for the AVX loop that fills float32 rows from uint8 features);
// it does not import model.
//
// # Concurrency
//
// A Dataset that nothing modifies may be read by any number of goroutines
// at once: the data-parallel trainer's workers each fill their own rows of
// one batch with FillRow and FillTarget. A Batcher belongs to one
// goroutine. Shard gives worker i its contiguous piece of a batch.
//
// # Order
//
// Randomness is explicit and seeded: with shuffling, epoch e visits the
// samples in an order drawn from (seed, e) alone, so a resumed run sees the
// same batches as an uninterrupted one, and Split and Synthetic draw from
// their seeds only. An Augment's draw for sample i in epoch e comes from
// (its seed, e, i) alone, whichever goroutine or process fills the row.
//
// # Images
//
// ReadFolder decodes PNG, JPEG, GIF, BMP, TIFF and WebP files on all cores
// into 8-bit rows with a Scale of 1/255 (ToTensor's values), reading each
// file's header first so that a file declaring an enormous size is refused
// before its pixels are allocated. FillRowAugmented applies an Augment as
// a row is filled: the stored samples never change.
//
// # The test split and the data's fingerprint
//
// TestSplit holds out a share of a dataset with TestSeed, the one split
// the ptrain command makes too, and returns a SplitInfo: the SHA-256
// Fingerprint of the rows before the split, their count, the share and
// the seed. A checkpoint that records it (checkpoint.Checkpoint.TrainedOn)
// lets an evaluation score exactly the rows the model did not train on,
// and a resumed run refuse data that changed. InputRange and
// Range.FarOutside are the cheap check that data are scaled as the
// training data were.
//
// # Downloads
//
// Download fetches the files of a Source (MNISTSource,
// FashionMNISTSource) that a directory lacks: each is verified by SHA-256
// before it is renamed into place, and an interrupted download continues
// where it stopped. Nothing else in the package uses the network.
//
// # Tables
//
// A CSV table read with CSVOptions.Raw keeps missing cells and text for a
// Preprocess: FitPreprocess fits it on the training split (columns kept or
// dropped, imputation values, sorted one-hot categories, the regression
// target's standardisation) as plain data that package checkpoint stores,
// and Apply encodes any split or later file with it, matching columns by
// header name. ExampleFitPreprocess shows both.
//
// The package Example reads a CSV table, standardises it and fills a
// batch; ExampleReadCSV_error shows an error that names its place.
package data
