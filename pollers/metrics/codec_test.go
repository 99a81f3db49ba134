package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

func roundTrip(t testing.TB, pts []pt, cols int) {
	t.Helper()
	e := newEncoder(cols, 0)
	for _, p := range pts {
		e.add(p.t, p.vs)
	}
	i := 0
	err := decode(e.bytes(), e.n, cols, 0, func(ts int64, vs []float64) {
		if i >= len(pts) {
			t.Fatalf("decoded more than %d points", len(pts))
		}
		want := pts[i]
		if ts != want.t {
			t.Fatalf("point %d: time %d, want %d", i, ts, want.t)
		}
		for c, v := range vs {
			if math.Float64bits(v) != math.Float64bits(want.vs[c]) {
				t.Fatalf("point %d col %d: %v, want %v", i, c, v, want.vs[c])
			}
		}
		i++
	})
	if err != nil {
		t.Fatal(err)
	}
	if i != len(pts) {
		t.Fatalf("decoded %d points, want %d", i, len(pts))
	}
}

func TestCodecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := map[string]func(i int) pt{
		"steady": func(i int) pt { return pt{1_700_000_000_000 + int64(i)*30_000, []float64{42}} },
		"jitter": func(i int) pt {
			return pt{1_700_000_000_000 + int64(i)*30_000 + r.Int64N(3000), []float64{10 + r.Float64()}}
		},
		"huge gaps and negatives": func(i int) pt {
			return pt{int64(i) * int64(i) * 1_000_003, []float64{-float64(i) * 1e300}}
		},
		"specials": func(i int) pt {
			sp := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, math.SmallestNonzeroFloat64, 1}
			return pt{int64(i), []float64{sp[i%len(sp)]}}
		},
		"decimals": func(i int) pt {
			// two decimals, a random walk; with now and then a value of more digits, a zero and a negative zero
			v := float64(int64(r.NormFloat64()*5000)) / 100
			switch i % 50 {
			case 7:
				v = r.Float64()
			case 9:
				v = 0
			case 11:
				v = math.Copysign(0, -1)
			case 13:
				v = 1e15 + 0.5
			case 17:
				v = math.NaN()
			}
			return pt{int64(i) * 30_000, []float64{v}}
		},
		"four columns": func(i int) pt {
			return pt{int64(i) * 300_000, []float64{float64(i), float64(i) * 2.5, r.NormFloat64(), 10}}
		},
		"dod at bucket edges": func(i int) pt {
			edges := []int64{0, 63, 64, -64, -65, 2047, 2048, -2048, -2049, 1 << 19, -(1 << 19), 1<<19 + 1, 1 << 40}
			return pt{int64(i)*(1<<42) + edges[i%len(edges)], []float64{1}}
		},
	}
	for name, gen := range cases {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{1, 2, 3, 100, 1000} {
				pts := make([]pt, n)
				cols := len(gen(0).vs)
				for i := range pts {
					pts[i] = gen(i)
					if i > 0 && pts[i].t <= pts[i-1].t {
						pts[i].t = pts[i-1].t + 1
					}
				}
				_ = cols
				roundTrip(t, pts, len(pts[0].vs))
			}
		})
	}
}

// A steady series costs about two bits a point; a noisy one a few bytes.
func TestCodecSize(t *testing.T) {
	e := newEncoder(1, 0)
	for i := range 1000 {
		e.add(int64(i)*30_000, []float64{12.5})
	}
	if got := len(e.bytes()); got > 16+8+300 {
		t.Fatalf("1000 identical points took %d bytes", got)
	}
}

func TestDecodeCorrupt(t *testing.T) {
	e := newEncoder(1, 0)
	for i := range 10 {
		e.add(int64(i)*1000, []float64{float64(i) * 1.1})
	}
	b := e.bytes()
	if err := decode(b[:len(b)/2], 10, 1, 0, func(int64, []float64) {}); err == nil {
		t.Fatal("a truncated stream decoded without error")
	}
}

func FuzzCodecRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, data []byte) {
		var pts []pt
		var last int64 = -1 << 40
		for len(data) >= 10 {
			dt := int64(int16(uint16(data[0])<<8|uint16(data[1]))) & 0x7fff
			v := math.Float64frombits(uint64(data[2]) | uint64(data[3])<<8 | uint64(data[4])<<16 | uint64(data[5])<<24 |
				uint64(data[6])<<32 | uint64(data[7])<<40 | uint64(data[8])<<48 | uint64(data[9])<<56)
			last += dt*int64(data[0]%7+1)*997 + 1
			pts = append(pts, pt{last, []float64{v}})
			data = data[10:]
		}
		if len(pts) > 0 {
			roundTrip(t, pts, 1)
		}
	})
}

// Decimal values of every scale, steps of every size.
func FuzzCodecDecimals(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 100, 7, 0, 255, 9, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		var pts []pt
		acc := int64(0)
		for i := 0; i+2 < len(data); i += 3 {
			step := int64(int16(uint16(data[i])<<8 | uint16(data[i+1])))
			acc += step * int64(data[i+2]%5+1) * int64(1+int(data[i+2])*int(data[i+2]))
			sc := int(data[i+2] % 8)
			v := float64(acc)
			if sc < len(pow10) {
				v = float64(acc) / pow10[sc]
			}
			pts = append(pts, pt{int64(i), []float64{v}})
		}
		if len(pts) > 0 {
			roundTrip(t, pts, 1)
		}
	})
}

// Arbitrary bytes as a stream must give an error or points, never a panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0}, 5, 1)
	f.Fuzz(func(t *testing.T, b []byte, n, cols int) {
		if n < 0 || n > 1000 || cols < 1 || cols > 4 {
			return
		}
		_ = decode(b, n, cols, 0, func(int64, []float64) {})
	})
}
