package busy_test

import (
	"errors"
	"fmt"

	"github.com/tether-go/tether/internal/busy"
)

var errBusy = errors.New("another Receive is in progress")

// receiver admits one Receive at a time, as a stream direction does.
type receiver struct{ guard busy.Guard }

func (r *receiver) Receive() error {
	if !r.guard.TryAcquire() {
		return errBusy
	}
	defer r.guard.Release()
	return nil
}

func Example() {
	var r receiver
	fmt.Println(r.Receive())
	r.guard.TryAcquire() // as if a Receive were running
	fmt.Println(r.Receive())
	// Output:
	// <nil>
	// another Receive is in progress
}
