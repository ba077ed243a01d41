package drivers

// UserAgent is the User-Agent coldbench's requests carry, "coldbench/VERSION",
// so that the owners of a target can tell load-test traffic in their logs.
// main sets the version at start; a scenario's own User-Agent header wins.
var UserAgent = "coldbench/dev"
