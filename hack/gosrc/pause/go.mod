module kubetune.local/gosrc/pause

go 1.23.0
