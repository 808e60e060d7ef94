package tethertest

// CompareNames orders task names as the reports list them.
var CompareNames = compareNames
