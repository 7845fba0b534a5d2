#!/bin/sh
echo "hello from testbox on $(uname -n)"
python3 -c 'print("python", __import__("sys").version.split()[0])'
