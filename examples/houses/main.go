// Command houses writes houses.csv, the generated table of the README's
// Tables example: 2,000 houses with an ID, three numeric columns, a text
// city column and a price, with some cells missing (empty), so that -drop,
// -impute and one-hot encoding all have something to do:
//
//	go run ./examples/houses > examples/houses/houses.csv
//
// The rows come from a fixed seed; the committed houses.csv is this
// program's output (main_test.go checks it).
package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
)

// rows is the table's length; 20% of it is the test split.
const rows = 2000

func main() {
	w := bufio.NewWriter(os.Stdout)
	write(w, rows)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "houses:", err)
		os.Exit(1)
	}
}

// write writes n rows and a header. The price is linear in the features
// plus noise of standard deviation 5,000: 100 a square foot, 10,000 a room,
// −500 a year of age, and a city's offset. About 2% of the ages and 1% of
// the square footages and room counts are missing.
func write(w io.Writer, n int) {
	rng := rand.New(rand.NewPCG(5, 6))
	offset := map[string]float64{"a": 0, "b": 30000, "c": -20000}
	fmt.Fprintln(w, "id,sqft,rooms,age,city,price")
	for i := range n {
		sqft, rooms, age := 500+rng.Float64()*3500, 1+rng.IntN(6), rng.Float64()*100
		city := []string{"a", "b", "c"}[rng.IntN(3)]
		price := 100*sqft + 10000*float64(rooms) - 500*age + offset[city] + rng.NormFloat64()*5000
		s, r, a := fmt.Sprintf("%.1f", sqft), fmt.Sprint(rooms), fmt.Sprintf("%.1f", age)
		if rng.IntN(100) == 0 {
			s = ""
		}
		if rng.IntN(100) == 0 {
			r = ""
		}
		if rng.IntN(50) == 0 {
			a = ""
		}
		fmt.Fprintf(w, "H%04d,%s,%s,%s,%s,%.0f\n", i+1, s, r, a, city, price)
	}
}
