package codec

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// ValueKind is the shape of generated record values (workload.value in a
// scenario file). Each kind compresses the way its real-world counterpart
// does, which is what makes codec comparisons meaningful.
type ValueKind uint8

const (
	// JSON values are order events: repeated field names and enum values
	// compress well, ids, amounts and timestamps less so.
	JSON ValueKind = iota
	// Text values are English-like sentences from a few hundred words.
	Text
	// Random values are uniform bytes: incompressible.
	Random
)

var valueKindNames = [...]string{"json", "text", "random"}

// ParseValueKind maps a workload.value name to a ValueKind.
func ParseValueKind(name string) (ValueKind, error) {
	for i, n := range valueKindNames {
		if n == name {
			return ValueKind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown value kind %q (allowed: %s)", name, strings.Join(valueKindNames[:], ", "))
}

// String returns the scenario-file name of the kind.
func (k ValueKind) String() string {
	if int(k) < len(valueKindNames) {
		return valueKindNames[k]
	}
	return fmt.Sprintf("valuekind(%d)", uint8(k))
}

// Fill overwrites all of dst with a generated value and returns dst. Output
// depends only on the rng state, recordIndex and len(dst); recordIndex feeds
// fields that grow through a run (ids, timestamps) as they do in real data.
// It does not allocate.
func (k ValueKind) Fill(dst []byte, rng *rand.Rand, recordIndex int) []byte {
	switch k {
	case JSON:
		fillJSON(dst, rng, recordIndex)
	case Text:
		fillText(dst, rng)
	default:
		fillRandom(dst, rng)
	}
	return dst
}

func fillRandom(dst []byte, rng *rand.Rand) {
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], rng.Uint64())
	}
	if i < len(dst) {
		var tail [8]byte
		binary.LittleEndian.PutUint64(tail[:], rng.Uint64())
		copy(dst[i:], tail[:])
	}
}

// pickWord draws one word and whether a comma follows it from a single
// 64-bit draw (generation runs for every record). The index is the product
// of two uniform 16-bit draws scaled to the vocabulary, small far more often
// than large: a cheap stand-in for Zipf's law.
func pickWord(rng *rand.Rand) (word string, comma bool) {
	r := rng.Uint64()
	n := uint64(len(vocabulary))
	a, b := (r&0xffff)*n>>16, (r>>16&0xffff)*n>>16
	return vocabulary[a*b/n], r>>32%10 == 0
}

// fillText writes sentences of 5 to 18 words, capitalised, with occasional
// commas, cut off wherever dst ends.
func fillText(dst []byte, rng *rand.Rand) {
	i := 0
	for i < len(dst) {
		words := 5 + rng.IntN(14)
		for w := 0; w < words && i < len(dst); w++ {
			if w > 0 {
				dst[i] = ' '
				if i++; i == len(dst) {
					return
				}
			}
			start := i
			word, comma := pickWord(rng)
			i += copy(dst[i:], word)
			if w == 0 {
				dst[start] -= 'a' - 'A'
			}
			if comma && w < words-1 && i < len(dst) {
				dst[i] = ','
				i++
			}
		}
		if i < len(dst) {
			dst[i] = '.'
			i++
		}
		if i < len(dst) {
			dst[i] = ' '
			i++
		}
	}
}

var (
	orderStatuses = [...]string{"CREATED", "PAID", "PAID", "SHIPPED", "SHIPPED", "SHIPPED", "DELIVERED", "DELIVERED", "CANCELLED", "RETURNED"}
	currencies    = [...]string{"EUR", "EUR", "USD", "USD", "USD", "GBP"}
	regions       = [...]string{"eu-west-1", "eu-central-1", "us-east-1", "us-east-1", "us-west-2", "ap-southeast-1"}
	channels      = [...]string{"web", "web", "mobile", "mobile", "mobile", "store", "partner"}
)

// jsonEventMax bounds one generated event (three items at most), so it is
// built in a stack buffer.
const jsonEventMax = 384

// fillJSON writes one order event padded or cut to len(dst). Padding goes
// into a trailing "note" string of prose (or spaces when only a few bytes are
// missing), so padded values stay valid JSON.
func fillJSON(dst []byte, rng *rand.Rand, recordIndex int) {
	var buf [jsonEventMax]byte
	ev := appendEvent(buf[:0], rng, recordIndex)
	if len(ev) >= len(dst) {
		copy(dst, ev)
		return
	}
	const noteOpen, noteClose = `,"note":"`, `"}`
	body := len(ev) - 1 // without the closing brace
	i := copy(dst, ev[:body])
	if gap := len(dst) - body; gap >= len(noteOpen)+len(noteClose)+1 {
		i += copy(dst[i:], noteOpen)
		end := len(dst) - len(noteClose)
		fillText(dst[i:end], rng)
		copy(dst[end:], noteClose)
		return
	}
	for ; i < len(dst)-1; i++ {
		dst[i] = ' '
	}
	dst[i] = '}'
}

func appendEvent(b []byte, rng *rand.Rand, recordIndex int) []byte {
	b = append(b, `{"order_id":`...)
	b = strconv.AppendInt(b, 10_000_000+int64(recordIndex), 10)
	b = append(b, `,"customer":"cust-`...)
	b = appendPadded(b, rng.IntN(20_000), 5)
	b = append(b, `","status":"`...)
	b = append(b, orderStatuses[rng.IntN(len(orderStatuses))]...)
	b = append(b, `","amount":`...)
	b = appendCents(b, 100+rng.IntN(50_000))
	b = append(b, `,"currency":"`...)
	b = append(b, currencies[rng.IntN(len(currencies))]...)
	b = append(b, `","ts":`...)
	// Milliseconds since a fixed 2023 epoch, rising with the record index.
	b = strconv.AppendInt(b, 1_700_000_000_000+int64(recordIndex)*20+int64(rng.IntN(20)), 10)
	b = append(b, `,"region":"`...)
	b = append(b, regions[rng.IntN(len(regions))]...)
	b = append(b, `","channel":"`...)
	b = append(b, channels[rng.IntN(len(channels))]...)
	b = append(b, `","items":[`...)
	for n, items := 0, 1+rng.IntN(3); n < items; n++ {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"sku":"SKU-`...)
		b = appendPadded(b, rng.IntN(5_000), 5)
		b = append(b, `","qty":`...)
		b = strconv.AppendInt(b, int64(1+rng.IntN(4)), 10)
		b = append(b, `,"price":`...)
		b = appendCents(b, 99+rng.IntN(20_000))
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendCents writes cents as a decimal amount with two fraction digits.
func appendCents(b []byte, cents int) []byte {
	b = strconv.AppendInt(b, int64(cents/100), 10)
	return append(b, '.', byte('0'+cents/10%10), byte('0'+cents%10))
}

// appendPadded writes v zero-padded to width digits.
func appendPadded(b []byte, v, width int) []byte {
	var d [20]byte
	i := len(d)
	for ; v > 0 || i == len(d); v /= 10 {
		i--
		d[i] = byte('0' + v%10)
	}
	for ; len(d)-i < width; i-- {
		d[i-1] = '0'
	}
	return append(b, d[i:]...)
}
