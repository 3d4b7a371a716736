package mkfake

import "time"

// LatencyProfileMetakocka names the latency distribution of the documented
// answers (Faults.LatencyProfile).
const LatencyProfileMetakocka = "metakocka"

// metakockaOprTimes are the opr_time_ms values of the answers shown in
// Metakocka's API documentation (108, sorted): a median of about 120 ms
// and a heavy tail up to 47.8 s. The "metakocka" profile draws a request's
// latency from them uniformly.
var metakockaOprTimes = []int{
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 6, 6, 8, 8, 12, 12, 16, 19, 21, 23, 29, 30, 31, 33, 33, 33, 33, 33,
	33, 33, 35, 35, 38, 38, 47, 48, 48, 52, 57, 57, 58, 58, 62, 66, 66, 66, 84, 86, 94, 108, 109, 121,
	135, 144, 145, 146, 152, 181, 185, 189, 189, 189, 189, 191, 223, 232, 232, 247, 348, 412, 416, 419,
	419, 441, 523, 585, 675, 741, 742, 742, 1081, 1803, 1803, 1803, 1853, 1853, 1910, 2380, 4312, 4982,
	8304, 8304, 11435, 11721, 11762, 11762, 12026, 12026, 12026, 12026, 12026, 13047, 13474, 17559,
	27302, 38071, 47788,
}

// profileLatency draws one latency of the named profile ("" and unknown
// names: none). The caller holds s.rngMu.
func (s *Server) profileLatency(profile string) time.Duration {
	if profile != LatencyProfileMetakocka {
		return 0
	}
	return time.Duration(metakockaOprTimes[s.rng.IntN(len(metakockaOprTimes))]) * time.Millisecond
}

// capacityFault shapes a request that finds inFlight requests of its
// company being served (itself included) by the company's capacity c: up
// to c nothing changes; above it the latency grows in proportion
// (inFlight/c times), as a saturated server's does; above 2c the request
// is refused with HTTP 429 and Retry-After.
func capacityFault(c, inFlight int, delay time.Duration) (FaultKind, time.Duration) {
	switch {
	case c <= 0 || inFlight <= c:
		return "", delay
	case inFlight > 2*c:
		return FaultRateLimit, 0
	}
	return "", delay * time.Duration(inFlight) / time.Duration(c)
}
