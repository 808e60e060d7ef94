package panics_test

import (
	"fmt"

	"github.com/tether-go/tether/internal/panics"
)

func ExampleNew() {
	run := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = panics.New(r) // here, while the stack holds the panic
			}
		}()
		panic("disk on fire")
	}
	err := run()
	fmt.Println(err.(*panics.Error).Value)
	// Output:
	// disk on fire
}
