package num

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAVX512KernelsNeedOnlyAVX512F: bestISA picks the AVX-512 kernels on
// AVX-512F alone, so none of them may use AVX512VL, which Xeon Phi lacks
// (it would fault there with an illegal instruction). An EVEX instruction
// on an X or Y register is AVX512VL unless it is scalar (…SS, …SD),
// VMOVHLPS or an extract from a Z register; X0–X15 and Y0–Y15 are named
// by VEX instructions as well, so only X16–X31 and Y16–Y31 need EVEX.
func TestAVX512KernelsNeedOnlyAVX512F(t *testing.T) {
	f, err := os.Open("gemm_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	high := regexp.MustCompile(`\b[XY](1[6-9]|2[0-9]|3[01])\b`)
	zreg := regexp.MustCompile(`\bZ[0-9]+\b`)
	var fn string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(s, "TEXT ") {
			fn = s
		}
		if !strings.Contains(fn, "AVX512") || !high.MatchString(s) {
			continue
		}
		op := strings.Fields(s)[0]
		switch {
		case strings.HasSuffix(op, "SS"), strings.HasSuffix(op, "SD"), op == "VMOVHLPS":
		case strings.HasPrefix(op, "VEXTRACT") && zreg.MatchString(s):
		default:
			t.Errorf("gemm_amd64.s:%d: %q is AVX512VL", line, s)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
