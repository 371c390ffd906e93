package parallel

// MaxConfusionClasses is the most classes an evaluation keeps a confusion
// matrix for: k×k counts per worker, 8 MiB each at this limit. Above it,
// Metrics has the per-class counts only; a k×k matrix of 200,000 classes
// would be 320 GB.
const MaxConfusionClasses = 1024

// classCounts are one worker's classification counts over an evaluation,
// for k classes (k ≥ 2): O(k) memory, and the k×k confusion matrix only
// up to MaxConfusionClasses.
type classCounts struct {
	k         int
	conf      []int64 // (k, k): target × prediction; nil above MaxConfusionClasses
	support   []int64 // (k): samples of each class
	predicted []int64 // (k): predictions of each class
	hits      []int64 // (k): samples of each class predicted as it
}

func newClassCounts(k int) classCounts {
	c := classCounts{k: k, support: make([]int64, k), predicted: make([]int64, k), hits: make([]int64, k)}
	if k <= MaxConfusionClasses {
		c.conf = make([]int64, k*k)
	}
	return c
}

func (c *classCounts) add(want, p int) {
	c.support[want]++
	c.predicted[p]++
	if want == p {
		c.hits[want]++
	}
	if c.conf != nil {
		c.conf[want*c.k+p]++
	}
}

func (c *classCounts) clear() {
	clear(c.conf)
	clear(c.support)
	clear(c.predicted)
	clear(c.hits)
}
