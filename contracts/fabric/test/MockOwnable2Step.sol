// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// A protocol contract whose ownership moves in two steps: the new owner accepts it.
contract MockOwnable2Step is Ownable2Step {
    uint256 public fee;

    constructor(address initialOwner) Ownable(initialOwner) {}

    function setFee(uint256 fee_) external onlyOwner {
        fee = fee_;
    }
}
