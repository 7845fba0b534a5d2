module kubetune.local/gosrc/etcd

go 1.23.0
