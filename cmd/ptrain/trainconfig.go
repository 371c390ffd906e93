package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

const trainExamples = `
Examples:
  ptrain train                                    # an MLP on the embedded 8x8 digits, in seconds
  ptrain train -data mnist -download -arch 784-256:relu-128:relu-10:softmax -epochs 15 -out mnist.safetensors
  ptrain train -arch "1x8x8-conv(16,3,pad=1)-bn:relu-maxpool(2)-flatten-10:softmax" -lr 0.01 -out cnn.safetensors
  ptrain train -data mnist -download -optimizer adam -lr 0.002 -schedule cosine -epochs 8 -out mnist-cnn.safetensors \
      -arch "1x28x28-conv(16,5)-bn:relu-maxpool(2)-conv(32,5)-bn:relu-maxpool(2)-flatten-128:relu-10:softmax"
  ptrain train -arch "1x8x8-conv(8,3,pad=1)-bn:relu-res(conv(8,3,pad=1)-bn:relu-conv(8,3,pad=1)-bn):relu-res(conv(16,3,stride=2,pad=1)-bn:relu-conv(16,3,pad=1)-bn|conv(16,1,stride=2)-bn):relu-gap-10:softmax"   -out resnet.safetensors   # a ResNet
  ptrain train -data fashion-mnist -download -optimizer momentum -lr 0.05 -epochs 30 -out fashion.safetensors
  ptrain train -data csv:data/testdata/iris.csv -csv-skip 1 -csv-header=false -test 0.2 -val 0 \
      -arch 4-16:relu-3:softmax -batch 8 -lr 0.01 -epochs 60 -out iris.safetensors
  ptrain train -data csv:examples/houses/houses.csv -label price -task regression -drop id -impute median -out houses.safetensors
  ptrain train -resume ptrain.safetensors -epochs 40   # continue a run up to 40 epochs
  ptrain train -config run.json -lr 0.01              # flags override the config file

A new run left at the default -out does not replace another run's checkpoint
there (give -out, or -overwrite); -data mnist and fashion-mnist default to
-schedule cosine; a csv: table's features are standardised (-normalize zscore)
unless -normalize says otherwise.
`

// parseTrainConfig resolves the flags, the -config file and a -resume
// checkpoint into one Config. It returns the checkpoint when resuming.
func parseTrainConfig(args []string, stdout io.Writer) (Config, *checkpoint, error) {
	probe := flag.NewFlagSet("train", flag.ContinueOnError)
	probe.SetOutput(io.Discard)
	var configPath, resume string
	pc := defaultConfig()
	trainFlags(probe, &pc)
	probe.StringVar(&configPath, "config", "", "")
	probe.StringVar(&resume, "resume", "", "")
	_ = probe.Parse(args) // errors are reported by the real parse below

	// req is the run the command line asks for: the defaults, then the
	// -config file, then the flags; set names what the last two gave.
	req := defaultConfig()
	set := map[string]bool{}
	if configPath != "" {
		keys, err := loadConfigFile(configPath, &req)
		if err != nil {
			return req, nil, errUsage{err}
		}
		set = keys
	}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	trainFlags(fs, &req)
	fs.StringVar(&configPath, "config", configPath, "read flags from this JSON file (keys are flag names); flags given on the command line override it")
	fs.StringVar(&resume, "resume", resume, "continue the run saved in this checkpoint with its settings: flags equal to the checkpoint's are accepted, and only "+resumableList()+" may differ")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ptrain train [flags]\n\nTrains a feed-forward network data-parallel across goroutines and saves a checkpoint.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), trainExamples)
	}
	if err := parseFlags(fs, args, stdout); err != nil {
		return req, nil, err
	}
	for name := range given(fs) {
		set[name] = true
	}
	delete(set, "config")
	delete(set, "resume")
	c := req
	var ck *checkpoint
	if resume != "" {
		var err error
		if ck, err = readCheckpoint(resume); err != nil {
			return c, nil, fmt.Errorf("-resume: %w", err)
		}
		if c, err = resumeConfig(ck, &req, fs, set); err != nil {
			return c, nil, err
		}
	}
	if ck == nil {
		datasetDefaults(&c, set)
	}
	if err := c.validate(); err != nil {
		return c, nil, errUsage{err}
	}
	if ck != nil && ck.hasConfig && !set["out"] && !(set["overwrite"] && c.Overwrite) { // a recorded -overwrite is the first run's, not this one's
		if err := checkResumeOut(c.Out, resume); err != nil {
			return c, nil, err
		}
	}
	c.given = set
	c.configPath, c.resumePath = configPath, resume
	return c, ck, nil
}

// resumeConfig is the checkpoint's config with the settings that may
// change taken from req. The other settings given (set) must equal the
// checkpoint's; presentation (-quiet, -json) is this command's own.
func resumeConfig(ck *checkpoint, req *Config, reqFlags *flag.FlagSet, set map[string]bool) (Config, error) {
	if !ck.hasConfig {
		return resumeFromFlags(ck, *req, set)
	}
	c := ck.cfg
	c.Quiet, c.JSON = false, false
	if c.Test == -1 && legacyTestFraction(&c) == 0 {
		c.Test = 0 // a CSV run saved before the default test split: none
	}
	if c.Normalize == "" {
		c.Normalize = "none" // saved before the field: trained unscaled, and stays so
	}
	cflags := flag.NewFlagSet("resume", flag.ContinueOnError)
	trainFlags(cflags, &c)
	var changed, detail []string
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if resumable[name] {
			if err := cflags.Set(name, reqFlags.Lookup(name).Value.String()); err != nil {
				return c, errUsage{fmt.Errorf("-%s: %w", name, err)}
			}
			continue
		}
		old, now := setting(&ck.cfg, name), setting(req, name)
		if old != now {
			changed = append(changed, "-"+name)
			detail = append(detail, fmt.Sprintf("-%s is %s in the checkpoint, %s here", name, orNone(old), orNone(now)))
		}
	}
	if len(changed) > 0 {
		return c, errUsage{fmt.Errorf("%s cannot change when resuming (%s): the run's settings are the checkpoint's; only %s may differ. To train on from its weights with other settings or other data, start a new run: -init %s -out NEW.safetensors",
			strings.Join(changed, ", "), strings.Join(detail, "; "), resumableList(), ck.path)}
	}
	return c, nil
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// setting is the value of flag name in c as it acts on the run: a
// dataset's path made absolute, an optimizer hyperparameter left out as
// the optimizer's default, -test as the fraction it holds out.
func setting(c *Config, name string) string {
	cc := *c
	fs := flag.NewFlagSet("setting", flag.ContinueOnError)
	trainFlags(fs, &cc)
	f := fs.Lookup(name)
	if f == nil {
		return ""
	}
	v := f.Value.String()
	switch name {
	case "data":
		return absData(v)
	case "test":
		return strconv.FormatFloat(legacyTestFraction(c), 'g', -1, 64)
	case "lr", "momentum", "beta1", "beta2", "eps", "alpha", "weight-decay":
		if v != "" {
			return v
		}
		oc, err := optimizerConfig(c)
		if err != nil {
			return v
		}
		d := map[string]float64{"lr": oc.LR, "momentum": oc.Momentum, "beta1": oc.Beta1, "beta2": oc.Beta2, "eps": oc.Eps, "alpha": oc.Alpha, "weight-decay": oc.WeightDecay}[name]
		return strconv.FormatFloat(d, 'g', -1, 64)
	}
	return v
}
