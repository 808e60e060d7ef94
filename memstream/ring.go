package memstream

// ring is a FIFO queue of T in a circular buffer whose length is a power of
// two, so that indexes wrap with a mask. It grows by doubling, never
// shrinks, and zeroes every slot it gives up so that the garbage collector
// does not see values that were already taken out. The zero ring is empty
// and ready to use; it is not safe for concurrent use.
type ring[T any] struct {
	buf  []T
	head int // index of the oldest value
	n    int // number of values held
}

// minRing is the length of a ring's first buffer.
const minRing = 8

func (r *ring[T]) len() int { return r.n }

// push appends v, growing the buffer when it is full.
func (r *ring[T]) push(v T) {
	if r.n == len(r.buf) {
		r.grow(r.n + 1)
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// pop removes and returns the oldest value; the ring must not be empty.
func (r *ring[T]) pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

// reset drops every value and the buffer itself.
func (r *ring[T]) reset() { *r = ring[T]{} }

// grow replaces the buffer with one of at least need values (a power of
// two), keeping the values in order from index 0.
func (r *ring[T]) grow(need int) {
	size := max(len(r.buf), minRing)
	for size < need {
		size *= 2
	}
	buf := make([]T, size)
	if r.n > 0 {
		end := r.head + r.n
		if end <= len(r.buf) {
			copy(buf, r.buf[r.head:end])
		} else {
			c := copy(buf, r.buf[r.head:])
			copy(buf[c:], r.buf[:r.n-c])
		}
	}
	r.buf = buf
	r.head = 0
}
