package busy_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tether-go/tether/internal/busy"
)

func TestGuardAdmitsOneHolder(t *testing.T) {
	var g busy.Guard
	if g.Held() {
		t.Fatal("zero Guard: Held() = true, want false")
	}
	if !g.TryAcquire() {
		t.Fatal("first TryAcquire = false, want true")
	}
	if g.TryAcquire() {
		t.Fatal("TryAcquire while held = true, want false")
	}
	if !g.Held() {
		t.Fatal("Held() after TryAcquire = false, want true")
	}
	g.Release()
	if g.Held() {
		t.Fatal("Held() after Release = true, want false")
	}
	if !g.TryAcquire() {
		t.Fatal("TryAcquire after Release = false, want true")
	}
	g.Release()
}

func TestGuardReleaseWhenFreePanics(t *testing.T) {
	var g busy.Guard
	defer func() {
		got, _ := recover().(string)
		if want := "busy: Release of a Guard that is not held"; got != want {
			t.Fatalf("Release of a free Guard panicked with %q, want %q", got, want)
		}
	}()
	g.Release()
}

// TestGuardExclusive has many goroutines claim the guard at once: never
// two holders at a time, and every claim is either admitted or refused.
func TestGuardExclusive(t *testing.T) {
	const goroutines, tries = 8, 2000
	var (
		g                 busy.Guard
		holders, admitted atomic.Int64
		wg                sync.WaitGroup
	)
	for range goroutines {
		wg.Go(func() {
			for range tries {
				if !g.TryAcquire() {
					continue
				}
				if n := holders.Add(1); n != 1 {
					t.Errorf("holders = %d, want 1", n)
				}
				admitted.Add(1)
				runtime.Gosched() // let the others try while this one holds
				holders.Add(-1)
				g.Release()
			}
		})
	}
	wg.Wait()
	if admitted.Load() == 0 {
		t.Fatal("no TryAcquire was admitted, want at least one")
	}
}

func BenchmarkGuard(b *testing.B) {
	var g busy.Guard
	for b.Loop() {
		if !g.TryAcquire() {
			b.Fatal("TryAcquire = false, want true")
		}
		g.Release()
	}
}
