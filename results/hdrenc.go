package results

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// V2 compressed encoding constants, as hdrhistogram-go and the other HDR
// implementations read them.
const (
	v2Cookie           = hdrhistogram.V2EncodingCookieBase | 0x10
	v2CompressedCookie = hdrhistogram.V2CompressedEncodingCookieBase | 0x10
	v2HeaderSize       = 40
)

// encoders are reused zlib writers and buffers: hdrhistogram-go's Encode
// builds a new BestCompression compressor (about 700 KiB) and a small
// allocation per count for every histogram, which the run.json journal
// paid for every histogram every second.
var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.z, _ = zlib.NewWriterLevel(&e.out, zlib.BestSpeed)
	return e
}}

type encoder struct {
	raw, out bytes.Buffer
	z        *zlib.Writer
	tmp      [10]byte
}

// EncodeHistogram writes h in the HdrHistogram V2 compressed encoding,
// base64 (the form hdrhistogram.Decode, HdrHistogram's Java and C readers
// and run.json take), like h.Encode(V2CompressedEncodingCookieBase) but
// with a reused compressor at BestSpeed: the bytes differ, what they
// decode to does not.
func EncodeHistogram(h *hdrhistogram.Histogram) ([]byte, error) {
	s := h.Export()
	counts := s.Counts
	limit := len(counts)
	for limit > 0 && counts[limit-1] == 0 {
		limit--
	}
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)

	// The payload: ZigZag LEB128-64b9B counts, a run of zeros as its
	// negated length.
	e.raw.Reset()
	e.raw.Write(make([]byte, v2HeaderSize)) // filled in below
	for i := 0; i < limit; {
		n := counts[i]
		i++
		if n == 0 {
			zeros := int64(1)
			for i < limit && counts[i] == 0 {
				zeros++
				i++
			}
			if zeros > 1 {
				n = -zeros
			}
		}
		e.raw.Write(zigZag(e.tmp[:0], n))
	}
	hdr := e.raw.Bytes()[:v2HeaderSize]
	ratio := s.IntegerToDoubleConversionRatio
	if ratio == 0 {
		ratio = 1
	}
	binary.BigEndian.PutUint32(hdr[0:], uint32(v2Cookie))
	binary.BigEndian.PutUint32(hdr[4:], uint32(e.raw.Len()-v2HeaderSize))
	binary.BigEndian.PutUint32(hdr[8:], 0) // normalizing index offset: counts are stored unrotated
	binary.BigEndian.PutUint32(hdr[12:], uint32(s.SignificantFigures))
	binary.BigEndian.PutUint64(hdr[16:], uint64(s.LowestTrackableValue))
	binary.BigEndian.PutUint64(hdr[24:], uint64(s.HighestTrackableValue))
	binary.BigEndian.PutUint64(hdr[32:], math.Float64bits(ratio))

	e.out.Reset()
	e.out.Write(make([]byte, 8)) // cookie and compressed length
	e.z.Reset(&e.out)
	if _, err := e.z.Write(e.raw.Bytes()); err != nil {
		return nil, err
	}
	if err := e.z.Close(); err != nil {
		return nil, err
	}
	b := e.out.Bytes()
	binary.BigEndian.PutUint32(b[0:], uint32(v2CompressedCookie))
	binary.BigEndian.PutUint32(b[4:], uint32(len(b)-8))
	out := make([]byte, base64.StdEncoding.EncodedLen(len(b)))
	base64.StdEncoding.Encode(out, b)
	return out, nil
}

// zigZag appends v as HdrHistogram's ZigZag LEB128-64b9B: LEB128 for the
// first 8 bytes, then a ninth byte of 8 bits.
func zigZag(dst []byte, v int64) []byte {
	u := uint64((v << 1) ^ (v >> 63))
	for i := 0; i < 8; i++ {
		if u>>7 == 0 {
			return append(dst, byte(u))
		}
		dst = append(dst, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(dst, byte(u))
}
