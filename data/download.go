package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
)

// A Source is where a dataset's files can be downloaded from: a base URL
// and every file's name and SHA-256.
type Source struct {
	Name  string       // for messages: "mnist"
	URL   string       // base URL; a file's is URL + Name
	Files []RemoteFile // every file the dataset needs
}

// RemoteFile is one file of a Source.
type RemoteFile struct {
	Name   string // the file name, in the URL and on disk
	SHA256 string // its SHA-256 in lower-case hex
}

// MNISTSource is MNIST's four files on PyTorch's mirror (MNISTURL), with
// their SHA-256s (their MD5s are torchvision's).
var MNISTSource = Source{Name: "mnist", URL: MNISTURL, Files: []RemoteFile{
	{"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
	{"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
	{"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
	{"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
}}

// FashionMNISTURL is Zalando Research's mirror of Fashion-MNIST, as its
// README gives it (plain HTTP: the SHA-256s are what make it safe).
const FashionMNISTURL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

// FashionMNISTSource is Fashion-MNIST's four files at FashionMNISTURL.
// (Debian's dataset-fashion-mnist package holds the same images
// recompressed, with other checksums; LoadMNIST reads either.)
var FashionMNISTSource = Source{Name: "fashion-mnist", URL: FashionMNISTURL, Files: []RemoteFile{
	{"train-images-idx3-ubyte.gz", "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"},
	{"train-labels-idx1-ubyte.gz", "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"},
	{"t10k-images-idx3-ubyte.gz", "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"},
	{"t10k-labels-idx1-ubyte.gz", "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"},
}}

// maxDownload bounds one file's download: MNIST's largest file is 26 MB,
// and a mirror that sends more is not sending it.
const maxDownload = 256 << 20

// PartSuffix ends the name of a file being downloaded: dir/NAME.part,
// renamed to dir/NAME once its SHA-256 is checked.
const PartSuffix = ".part"

// Missing lists the files of src that dir lacks.
func (src Source) Missing(dir string) []string {
	var missing []string
	for _, f := range src.Files {
		if _, err := os.Stat(filepath.Join(dir, f.Name)); err != nil {
			missing = append(missing, f.Name)
		}
	}
	return missing
}

// Download fetches every file of src that dir lacks into dir (made if
// need be) with client (nil: http.DefaultClient), and reports each file
// it starts to fetch to started (may be nil), with the byte offset it
// resumes at.
//
// Each file is written to dir/NAME.part and renamed to dir/NAME only once
// its SHA-256 is the one src gives, so dir/NAME is whole and right or
// absent, whatever happens. A .part that an interrupted download left is
// continued with an HTTP Range request (a server that ignores it sends
// the whole file, which replaces the part); a file whose checksum differs
// is removed, and the error names both checksums. Files already in dir
// are not checked again (LoadMNIST checks their structure).
//
// Two processes must not download into the same dir at once.
func Download(ctx context.Context, client *http.Client, src Source, dir string, started func(url string, offset int64)) error {
	if client == nil {
		client = http.DefaultClient
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", src.Name, err)
	}
	for _, f := range src.Files {
		path := filepath.Join(dir, f.Name)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if err := fetch(ctx, client, src.URL+f.Name, path, f.SHA256, started); err != nil {
			return fmt.Errorf("%s: %w", src.Name, err)
		}
	}
	return nil
}

// fetch downloads url to path through path.part, resuming the part, and
// renames it into place if its SHA-256 is want.
func fetch(ctx context.Context, client *http.Client, url, path, want string, started func(string, int64)) (err error) {
	part := path + PartSuffix
	defer func() {
		// A failure before any byte arrived (no network, a 404) leaves
		// nothing worth continuing: no empty part. Runs after f.Close.
		if fi, serr := os.Stat(part); err != nil && serr == nil && fi.Size() == 0 {
			os.Remove(part)
		}
	}()
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	offset, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if started != nil {
		started(url, offset)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		if offset == 0 {
			return fmt.Errorf("downloading %s: %w", url, err)
		}
		return fmt.Errorf("downloading %s: %w (the %d bytes so far are kept in %s: run again to continue)", url, err, offset, part)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		// The rest, after the part. A server that sends 206 from
		// elsewhere is caught by the checksum.
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		// The whole file (the server ignores ranges), or a part that
		// cannot be continued: start again.
		if offset, err = 0, f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			req.Header.Del("Range")
			if resp, err = client.Do(req); err != nil {
				return fmt.Errorf("downloading %s: %w", url, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("downloading %s: %s", url, resp.Status)
			}
		}
	default:
		return fmt.Errorf("downloading %s: %s", url, resp.Status)
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, maxDownload-offset+1))
	if err != nil {
		return fmt.Errorf("downloading %s: %w after %d bytes (kept in %s: run again to continue)", url, err, offset+n, part)
	}
	if offset+n > maxDownload {
		f.Close()
		os.Remove(part)
		return fmt.Errorf("downloading %s: more than %d MiB, not the dataset's file (removed)", url, maxDownload>>20)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		f.Close()
		os.Remove(part)
		return fmt.Errorf("%s: SHA-256 %s, want %s: the download is corrupt or the mirror serves another file (removed; run again to retry)", url, got, want)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(part, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil { // the rename, on disk
		_ = d.Sync()
		d.Close()
	}
	return nil
}
