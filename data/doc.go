// Package data loads datasets (IDX files such as MNIST and Fashion-MNIST,
// CSV tables, an embedded copy of the UCI 8x8 digits, synthetic sets),
// preprocesses them, splits them, and fills caller-owned batch buffers.
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
// their seeds only.
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
