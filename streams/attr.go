package streams

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
// must then be a T), or ok false when the object does not have it. A wrapper
// answers the keys it provides and asks the object it wraps for the rest.
type Attributer interface {
	Attribute(key any) (value any, ok bool)
}

// Extra returns the value of the attribute key of s (a stream, listener or
// anything else that implements [Attributer]), and whether s has it.
func Extra[T any](s any, key Attr[T]) (T, bool) {
	var zero T
	a, ok := s.(Attributer)
	if !ok || key.id == nil {
		return zero, false
	}
	v, ok := a.Attribute(key)
	if !ok {
		return zero, false
	}
	t, ok := v.(T)
	return t, ok
}
