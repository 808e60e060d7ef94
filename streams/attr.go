package streams

import "net"

// Attr is the key of a typed attribute of a stream or listener, such as its
// local address: AnyIO's typed attributes, in Go's shape. Keys are compared
// by identity, so declare each one once, as a package-level variable made
// by [NewAttr]:
//
//	var LocalPort = streams.NewAttr[int]("local port")
//
// The zero Attr is a key that no object has.
type Attr[T any] struct {
	id *attrID
}

type attrID struct{ name string }

// NewAttr returns a new attribute key, distinct from every other; name is
// used in messages only.
func NewAttr[T any](name string) Attr[T] { return Attr[T]{id: &attrID{name: name}} }

// String returns the name the key was made with.
func (a Attr[T]) String() string {
	if a.id == nil {
		return "<zero attribute>"
	}
	return a.id.name
}

// Attributer is implemented by streams and listeners that have typed
// attributes. Attribute returns the value for key (an Attr[T], whose value
// must then be a T), or ok false when the object does not have it.
//
// A wrapper answers only the keys that it provides itself (a TLS stream
// its connection state), and has an Unwrap method through which [Extra]
// finds the rest in what it wraps: it need not pass them on by hand.
type Attributer interface {
	Attribute(key any) (value any, ok bool)
}

// Extra returns the value of the attribute key of s (a stream, listener,
// net.Conn from [AsConn], or anything else), and whether s has it.
//
// Extra asks s, if it implements [Attributer]. When s does not answer,
// Extra follows its Unwrap method to what s wraps, and asks that, and so
// on down the chain, as errors.Is follows an error's Unwrap and
// net/http's ResponseController a ResponseWriter's. Unwrap may have any of
// these shapes:
//
//	Unwrap() ByteStream
//	Unwrap() ByteReceiver
//	Unwrap() ByteSender
//	Unwrap() net.Conn
//	Unwrap() any
//	Unwrap() []any
//
// The last is for a wrapper of several objects, such as [Stapled]: each is
// asked in turn, with what it wraps, before the next. The first answer
// counts (it is a bug of that object if its value is not a T: Extra then
// reports false). An Unwrap that returns nil ends its branch of the
// chain, and a chain must not loop back on itself. Every wrapper in
// package streams has an Unwrap method.
//
// Extra costs a few type assertions per object asked, and allocates
// nothing but what the methods it calls allocate: the slice that an
// Unwrap() []any returns ([Stapled]'s, one small allocation).
func Extra[T any](s any, key Attr[T]) (T, bool) {
	var zero T
	if key.id == nil {
		return zero, false
	}
	v, ok := attribute(s, key)
	if !ok {
		return zero, false
	}
	t, ok := v.(T)
	return t, ok
}

// attribute asks s, then what s wraps, for key: the walk of [Extra].
func attribute(s, key any) (any, bool) {
	return walk(s, func(o any) (any, bool) {
		if a, ok := o.(Attributer); ok {
			return a.Attribute(key)
		}
		return nil, false
	})
}

// walk calls visit with s and then with each object down its Unwrap
// chain, depth first, until visit answers.
func walk(s any, visit func(any) (any, bool)) (any, bool) {
	for s != nil {
		if v, ok := visit(s); ok {
			return v, true
		}
		next, several := unwrap(s)
		for _, w := range several {
			if v, ok := walk(w, visit); ok {
				return v, true
			}
		}
		s = next
	}
	return nil, false
}

// unwrap returns what s wraps, through an Unwrap method of one of the
// shapes that [Extra] knows: one object (next), several, or none (nil, nil).
func unwrap(s any) (next any, several []any) {
	switch u := s.(type) {
	case interface{ Unwrap() ByteStream }:
		if w := u.Unwrap(); w != nil {
			return w, nil
		}
	case interface{ Unwrap() ByteReceiver }:
		if w := u.Unwrap(); w != nil {
			return w, nil
		}
	case interface{ Unwrap() ByteSender }:
		if w := u.Unwrap(); w != nil {
			return w, nil
		}
	case interface{ Unwrap() net.Conn }:
		if w := u.Unwrap(); w != nil {
			return w, nil
		}
	case interface{ Unwrap() any }:
		return u.Unwrap(), nil
	case interface{ Unwrap() []any }:
		return nil, u.Unwrap()
	}
	return nil, nil
}
